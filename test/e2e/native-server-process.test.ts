// The native server as a process tree: a supervisor and SPECK_WORKERS workers, a worker killed with
// SIGKILL is replaced while the site keeps answering, and SIGTERM drains everything to exit 0; a
// listener or a worker that cannot start ends it with one line instead of a loop of replacements.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { buildServer } from "../../src/native/server/index.ts";
import { TARGETS } from "../../src/native/target/index.ts";
import { writePack } from "../../src/pack/write.ts";
import { CORPUS_SITE } from "../corpus/site.ts";
import { runCommand, waitForPort } from "../support/native.ts";
import { freePort } from "../support/net.ts";
import { requireCommands } from "../support/tools.ts";

const work = mkdtempSync(join(tmpdir(), "speck-process-"));
after(() => rmSync(work, { recursive: true, force: true }));

function children(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return text ? text.split(" ").map(Number) : [];
  } catch {
    return [];
  }
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("x64: SPECK_WORKERS workers under a supervisor; a SIGKILLed worker is replaced; SIGTERM exits 0", async () => {
  const port = await freePort();
  const binary = join(work, "speck");
  writeFileSync(binary, buildServer(TARGETS.x64).elf);
  chmodSync(binary, 0o755);
  writeFileSync(join(work, "site.pack"), writePack(CORPUS_SITE));
  const server = spawn(binary, [join(work, "site.pack")], {
    env: { PORT: String(port), SPECK_WORKERS: "3" },
    stdio: "ignore",
  });
  const exited = new Promise<number | null>((resolve) => server.on("exit", (code) => resolve(code)));
  const answers = async () => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/about`)).status === 200;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(answers, "the site");
    await waitFor(() => children(server.pid!).length === 3, "three workers");
    const [victim] = children(server.pid!);
    process.kill(victim!, "SIGKILL");
    await waitFor(
      () => children(server.pid!).length === 3 && !children(server.pid!).includes(victim!),
      "a replacement worker",
    );
    assert.ok(await answers());
    const stopped = Date.now();
    server.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.ok(Date.now() - stopped < 2000, `stopped in ${Date.now() - stopped} ms`);
  } finally {
    server.kill("SIGKILL");
  }
});

/** Runs the server over the corpus site with `env` (under `wrap`) until it exits, within 5 s. */
async function runToExit(
  target: keyof typeof TARGETS,
  env: Record<string, string>,
  wrap: string[] = [],
): Promise<{ code: number | string; stderr: string }> {
  const binary = join(work, `speck-${target}`);
  writeFileSync(binary, buildServer(TARGETS[target]).elf);
  chmodSync(binary, 0o755);
  writeFileSync(join(work, "site.pack"), writePack(CORPUS_SITE));
  const [command, ...args] = [...wrap, ...runCommand(TARGETS[target], binary), join(work, "site.pack")];
  const server = spawn(command!, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  server.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const timer = setTimeout(() => server.kill("SIGKILL"), 5000);
  const code = await new Promise<number | string>((resolve) =>
    server.on("close", (exit, signal) => resolve(exit ?? signal ?? "unknown")),
  );
  clearTimeout(timer);
  return { code, stderr };
}

test("a listener that cannot be opened is one line naming the port and why, exit code 2, before any worker starts", async (t) => {
  const port = await freePort();
  const holder = createServer().listen(port, "127.0.0.1");
  await once(holder, "listening");
  try {
    for (const workers of ["1", "3"]) {
      const inUse = await runToExit("x64", { PORT: String(port), SPECK_WORKERS: workers });
      assert.deepEqual(inUse, { code: 2, stderr: `speck: cannot listen on port ${port}: in use\n` }, workers);
      const foreign = await runToExit("x64", {
        PORT: "8080",
        SPECK_ADDR: "192.0.2.1",
        SPECK_WORKERS: workers,
      });
      assert.deepEqual(foreign, {
        code: 2,
        stderr: "speck: cannot listen on port 8080: SPECK_ADDR is not on this machine\n",
      });
    }
    if (requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) {
      const a64 = await runToExit("a64", { PORT: String(port), SPECK_WORKERS: "2" });
      assert.deepEqual(a64, { code: 2, stderr: `speck: cannot listen on port ${port}: in use\n` });
    }
  } finally {
    holder.close();
  }
  // ports below ip_unprivileged_port_start need CAP_NET_BIND_SERVICE, which setpriv takes from root
  const unprivileged = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
  if (unprivileged <= 1) return t.diagnostic("every port is unprivileged here: no privileged-port case");
  if (!requireCommands(t, ["setpriv"], "apt-get install util-linux")) return;
  const wrap =
    process.getuid?.() === 0 ? ["setpriv", "--bounding-set=-net_bind_service", "--inh-caps=-all"] : [];
  const denied = await runToExit("x64", { PORT: "1", SPECK_WORKERS: "2" }, wrap);
  assert.deepEqual(denied, {
    code: 2,
    stderr: "speck: cannot listen on port 1: below 1024 it needs privileges\n",
  });
});

test("a worker that cannot start is not replaced: the supervisor says so and exits with its code", async (t) => {
  if (!requireCommands(t, ["prlimit"], "apt-get install util-linux")) return;
  // the connection table's lazily backed mapping needs more address space than this allows
  const wrap = ["prlimit", `--as=${200 * 2 ** 20}`];
  const line = "speck: a worker cannot start: out of memory or descriptors\n";
  const port = String(await freePort());
  assert.deepEqual(await runToExit("x64", { PORT: port, SPECK_WORKERS: "1" }, wrap), {
    code: 1,
    stderr: line,
  });
  assert.deepEqual(await runToExit("x64", { PORT: port, SPECK_WORKERS: "2" }, wrap), {
    code: 1,
    stderr: line.repeat(2),
  });
});

/** A server of `target` reading its CPU quota from files of a folder of its own. */
function quotaServer(target: keyof typeof TARGETS) {
  const dir = mkdtempSync(join(work, "cgroup-"));
  const files = {
    cpuMax: join(dir, "cpu.max"),
    cfsQuota: join(dir, "quota"),
    cfsPeriod: join(dir, "period"),
  };
  const binary = join(dir, "speck");
  writeFileSync(binary, buildServer(TARGETS[target], { cgroup: files }).elf);
  chmodSync(binary, 0o755);
  writeFileSync(join(dir, "site.pack"), writePack(CORPUS_SITE));
  /** Worker processes under the supervisor with these files in place; 0 when one process serves alone. */
  return async (quota: Partial<Record<keyof typeof files, string>>): Promise<number> => {
    for (const path of Object.values(files)) rmSync(path, { force: true });
    for (const [name, text] of Object.entries(quota)) writeFileSync(files[name as keyof typeof files], text);
    const port = await freePort();
    const [command, ...args] = [...runCommand(TARGETS[target], binary), join(dir, "site.pack")];
    const server = spawn(command!, args, { env: { PORT: String(port) }, stdio: "ignore" });
    try {
      await waitForPort(port);
      await new Promise((r) => setTimeout(r, 300));
      return children(server.pid!).length;
    } finally {
      server.kill("SIGTERM");
      await once(server, "exit");
    }
  };
}

test("the default worker count is the CPUs the process may run on, within a cgroup's CPU quota", async (t) => {
  const cpus = availableParallelism();
  const all = cpus > 1 ? cpus : 0;
  const two = Math.min(cpus, 2) > 1 ? 2 : 0;
  const workersWith = quotaServer("x64");
  assert.equal(await workersWith({}), all, "no quota");
  assert.equal(await workersWith({ cpuMax: "max 100000\n" }), all, "v2 without a limit");
  assert.equal(await workersWith({ cpuMax: "100000 100000\n" }), 0, "v2, one CPU");
  assert.equal(await workersWith({ cpuMax: "150000 100000\n" }), two, "v2, 1.5 CPUs round up");
  assert.equal(await workersWith({ cfsQuota: "-1\n", cfsPeriod: "100000\n" }), all, "v1 without a limit");
  assert.equal(await workersWith({ cfsQuota: "50000\n", cfsPeriod: "100000\n" }), 0, "v1, half a CPU");
  assert.equal(await workersWith({ cfsQuota: "200000\n", cfsPeriod: "100000\n" }), two, "v1, two CPUs");
  if (!requireCommands(t, ["qemu-aarch64-static"], "apt-get install qemu-user-static")) return;
  const a64 = quotaServer("a64");
  assert.equal(await a64({ cpuMax: "100000 100000\n" }), 0, "arm64, v2, one CPU");
  assert.equal(await a64({ cfsQuota: "-1\n", cfsPeriod: "100000\n" }), all, "arm64, v1 without a limit");
});
