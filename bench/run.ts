// The benchmark entry: runs every suite of issue 7 against speck's native server and the peers on this
// machine, in interleaved rounds with each server pinned to the same core and the load generator on
// another, then prints the tables (and with --write publishes them into docs/benchmarks.md and
// docs/charts/, and saves the raw results to bench/results.json).
//
//   npm run bench:quick                       a few minutes: fewer cells, 2 rounds of 1 s
//   npm run bench -- --write                  the full run: every cell, 3 rounds of 2 s, images, build
//   node --import tsx bench/run.ts --from bench/results.json --write    re-render saved results
//   (with --write an unfinished run leaves bench/results.partial.json, which --from renders too)
//
// Options: --rounds N, --duration S, --servers speck,nginx,..., --skip throughput,memory,images,build
// (with --write, skipped phases keep their saved results: --skip throughput,memory,build re-measures the images)

import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/support/net.ts";
import { treeCpuSeconds } from "./cpu.ts";
import { dockerVersion, measureImages } from "./images.ts";
import type { LoadResult } from "./load.ts";
import { holdIdleConnections, type IdleConnections, processTree, treeMemory } from "./memory.ts";
import {
  PEERS,
  type Peer,
  type PeerOptions,
  type StartedServer,
  startServerTimed,
  stopServer,
} from "./peers.ts";
import { publish } from "./publish.ts";
import { type CpuQuota, cpuQuota } from "./quota.ts";
import type { MemoryResult, Results } from "./results.ts";
import { BENCH_FILES, writeBenchSite } from "./site.ts";
import { SPECK } from "./speck.ts";
import { loadCell, type Probe, probeCell, SERVER_BOUND_SHARE, throughputCells } from "./throughput.ts";

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const quick = args.includes("--quick");
const write = args.includes("--write");
const repo = fileURLToPath(new URL("..", import.meta.url));
const log = (line: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

function fail(message: string): never {
  console.error(`bench/run: ${message}`);
  process.exit(2);
}

const hasCommand = (command: string) =>
  spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;

/**
 * Raises this process's descriptor limit (inherited by every server and client it starts) to its hard
 * limit and returns it; the 10,000-connection test needs more than 10,000 on both sides.
 */
function raiseFileLimit(): number {
  const [, hard] = execFileSync(
    "prlimit",
    ["--pid", String(process.pid), "--nofile", "--output=SOFT,HARD", "--noheadings"],
    {
      encoding: "utf8",
    },
  )
    .trim()
    .split(/\s+/);
  const limit = hard === "unlimited" ? "1048576" : hard!;
  execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${limit}:${limit}`]);
  return Number(limit);
}

/** With --write, saves the results so far, so an interrupted run can still be rendered with --from. */
function saveProgress(results: Results): void {
  if (!write) return;
  const path = join(repo, "bench/results.partial.json");
  writeFileSync(`${path}.tmp`, JSON.stringify(results));
  renameSync(`${path}.tmp`, path);
}

/** `record[key]`, created by `make` when absent. */
function slot<T>(record: Record<string, T>, key: string, make: () => T): T {
  if (!(key in record)) record[key] = make();
  return record[key]!;
}

function folderStats(folder: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(folder, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

/**
 * With --write, what this run skipped comes from the saved results (bench/results.json): a run
 * with `--skip throughput,memory` re-measures only the images and keeps the server results, one
 * with `--skip images` keeps the image results.
 */
function withSavedResults(results: Results, skip: Set<string>): Results {
  const saved = join(repo, "bench/results.json");
  if (!write || !existsSync(saved)) return results;
  const previous = JSON.parse(readFileSync(saved, "utf8")) as Results;
  const keptServers = skip.has("throughput") && skip.has("memory");
  const keptImages = skip.has("images");
  // the failures of what is kept stay with it
  const isImages = (failure: string) => failure.startsWith("images: ");
  const failures = [
    ...previous.failures.filter((f) => (isImages(f) ? keptImages : keptServers)),
    ...results.failures,
  ];
  const merged = keptServers ? { ...previous, failures } : { ...results, failures };
  return { ...merged, images: results.images ?? (keptImages ? previous.images : undefined) };
}

async function main(): Promise<void> {
  const from = option("--from");
  if (from) {
    publish(JSON.parse(readFileSync(from, "utf8")) as Results, { write, repo });
    return;
  }
  for (const tool of ["wrk", "h2load", "taskset", "prlimit"]) {
    if (!hasCommand(tool))
      fail(`${tool} is missing; install it with: apt-get install wrk nghttp2-client util-linux`);
  }
  const fileLimit = raiseFileLimit();
  const available = cpus().length;
  const pinning =
    available >= 2
      ? { server: String(available - 1), client: available > 2 ? `0-${available - 2}` : "0" }
      : { server: "0", client: "0" };
  // the harness itself (and every client it spawns) stays off the server's core
  execFileSync("taskset", ["-p", "-c", pinning.client, String(process.pid)], { stdio: "ignore" });

  const skip = new Set((option("--skip") ?? "").split(",").filter(Boolean));
  const wanted = option("--servers")?.split(",");
  const servers: Peer[] = [SPECK, ...PEERS].filter(
    (peer) => (!wanted || wanted.includes(peer.name)) && peer.commands.every(hasCommand),
  );
  const missing = [SPECK, ...PEERS].filter((peer) => !peer.commands.every(hasCommand));
  for (const peer of missing) log(`skipping ${peer.name}: ${peer.install}`);

  const rounds = Number(option("--rounds") ?? (quick ? 2 : 3));
  const duration = Number(option("--duration") ?? (quick ? 1 : 2));
  const work = mkdtempSync(join(tmpdir(), "speck-bench-"));
  const site = join(work, "site");
  writeBenchSite(site, join(repo, "examples/docs"));

  const results: Results = {
    mode: quick ? "quick" : "full",
    started: new Date().toISOString(),
    machine: {
      cpus: available,
      model: cpus()[0]?.model ?? "unknown",
      kernel: release(),
      loadBefore: loadavg()[0]!,
      loadAfter: 0,
    },
    pinning,
    rounds,
    duration,
    versions: Object.fromEntries(servers.map((peer) => [peer.name, peer.version()])),
    cells: [],
    load: {},
    probes: {},
    cpu: {},
    startup: {},
    memory: {},
    failures: [],
  };

  const start = async (peer: Peer): Promise<StartedServer & { port: number }> => {
    const port = await freePort();
    const options: PeerOptions = { root: site, port, work: join(work, peer.name), cpus: pinning.server };
    const started = await startServerTimed(peer.command(options), options);
    slot(results.startup, peer.name, () => []).push(started.startup);
    return { ...started, port };
  };

  try {
    if (!skip.has("throughput")) {
      const cells = throughputCells(quick);
      results.cells = cells.map((c) => ({
        id: c.id,
        title: c.title,
        file: c.file.label,
        tool: c.tool,
        connections: c.connections,
      }));
      // one CPU-limited group per server for the server-bound loads, or why this machine has none
      const quotas = new Map<string, CpuQuota>();
      let noQuota: string | undefined;
      for (const peer of cells.some((cell) => cell.serverBound) ? servers : []) {
        const quota = cpuQuota(peer.name, SERVER_BOUND_SHARE);
        if (typeof quota === "string") noQuota = quota;
        else quotas.set(peer.name, quota);
      }
      if (noQuota) {
        results.failures.push(`server-bound loads: ${noQuota}`);
        log(`skipping the server-bound loads: ${noQuota}`);
      }
      for (let round = 0; round < rounds; round++) {
        // every server runs (idle but for the one under load) for the whole round, so each load is
        // run against all of them back to back, a different server first each time: a noisy
        // neighbour's burst hits all servers alike instead of one server's whole turn
        const running: { peer: Peer; port: number; child: StartedServer["child"] }[] = [];
        try {
          for (const peer of servers) {
            const server = await start(peer);
            running.push({ peer, port: server.port, child: server.child });
            await loadCell(cells[0]!, server.port, 1, pinning.client); // warm-up
          }
          for (const [c, cell] of cells.entries()) {
            const shift = round * cells.length + c;
            const order = running.map((_, i) => running[(i + shift) % running.length]!);
            for (const { peer, port, child } of order) {
              if (cell.tool === "h2load" && peer.keepAlive === false) continue;
              const quota = cell.serverBound ? quotas.get(peer.name) : undefined;
              if (cell.serverBound && !quota) continue;
              if (round === 0) {
                const probes = slot<Record<string, Probe>>(results.probes, cell.id, () => ({}));
                probes[peer.name] = await probeCell(cell, port);
              }
              const limited = quota ? processTree(child.pid!) : [];
              try {
                quota?.hold(limited);
                const cpuBefore = treeCpuSeconds(child.pid!);
                const result = await loadCell(cell, port, duration, pinning.client);
                const cpu = treeCpuSeconds(child.pid!) - cpuBefore;
                const byServer = slot<Record<string, LoadResult[]>>(results.load, cell.id, () => ({}));
                slot<LoadResult[]>(byServer, peer.name, () => []).push(result);
                const cpuByServer = slot<Record<string, number[]>>(results.cpu, cell.id, () => ({}));
                slot<number[]>(cpuByServer, peer.name, () => []).push((cpu / result.requests) * 1e6);
              } catch (error) {
                results.failures.push(`${peer.name} ${cell.id}: ${(error as Error).message.split("\n")[0]}`);
                log(`${peer.name} ${cell.id} failed: ${(error as Error).message.split("\n")[0]}`);
              } finally {
                quota?.release(limited);
              }
            }
            log(`round ${round + 1}/${rounds}: ${cell.id} done`);
          }
        } finally {
          for (const { child } of running) await stopServer(child);
        }
        log(`round ${round + 1}/${rounds} done`);
        saveProgress(results);
      }
      for (const quota of quotas.values()) quota.remove();
    }

    saveProgress(results);
    if (!skip.has("memory")) {
      // the harness holds the client side of every connection, so it needs the limit above the count
      const counts = [1_000, 10_000].filter((count) => count + 1000 <= fileLimit);
      if (counts.length < 2) results.failures.push(`memory: descriptor limit ${fileLimit} is below 11,000`);
      for (const peer of servers) {
        if (peer.keepAlive === false) {
          results.memory[peer.name] = {
            skipped: "no keep-alive: it closes every connection after one answer",
          };
          continue;
        }
        const server = await start(peer);
        const held: IdleConnections[] = [];
        try {
          await probeCell({ ...throughputCells(true)[0]!, headers: [] }, server.port);
          await new Promise((resolve) => setTimeout(resolve, 500));
          const memory: MemoryResult = { rest: treeMemory(server.child.pid!), idle: [] };
          let holding = 0;
          for (const count of counts) {
            held.push(await holdIdleConnections(server.port, BENCH_FILES[0]!.path, count - holding));
            holding = count;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            const open = held.reduce((n, h) => n + h.open(), 0);
            memory.idle.push({ connections: count, open, resident: treeMemory(server.child.pid!) });
          }
          results.memory[peer.name] = memory;
        } catch (error) {
          results.memory[peer.name] = { skipped: (error as Error).message.split("\n")[0]! };
        } finally {
          for (const h of held) await h.close();
          await stopServer(server.child);
        }
        log(`memory: ${peer.name} done`);
      }
    }

    saveProgress(results);
    // builds (images, build time) use every core, as they would anywhere else
    execFileSync("taskset", ["-p", "-c", `0-${available - 1}`, String(process.pid)], { stdio: "ignore" });
    if (!skip.has("images")) {
      if (!hasCommand("docker")) results.failures.push("images: docker is missing (bash .ci/services.sh)");
      else {
        const realSite = !quick && statExists("/usr/share/doc/python3.11/html");
        const sites: Record<string, string> = {
          hello: join(repo, "examples/hello"),
          "real site": realSite ? "/usr/share/doc/python3.11/html" : join(repo, "examples/docs"),
        };
        try {
          const { images, times } = measureImages(
            sites,
            "real site",
            join(work, "images"),
            quick ? 1 : 2,
            log,
          );
          results.images = {
            speck: SPECK.version(),
            docker: dockerVersion(),
            built: images,
            times,
            sites: Object.fromEntries(
              Object.entries(sites).map(([name, folder]) => [
                name,
                // the repository's own examples by their path in it, not this checkout's
                { folder: folder.startsWith(repo) ? relative(repo, folder) : folder, ...folderStats(folder) },
              ]),
            ),
            timedSite: "real site",
          };
        } catch (error) {
          results.failures.push(`images: ${(error as Error).message.split("\n")[0]}`);
        }
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  results.machine.loadAfter = loadavg()[0]!;

  publish(withSavedResults(results, skip), { write, repo });
  rmSync(join(repo, "bench/results.partial.json"), { force: true });

  if (!quick && !skip.has("build") && write) {
    log("build time: bench/build.ts --rounds 3 --write");
    execFileSync(
      process.execPath,
      ["--import", "tsx", join(repo, "bench/build.ts"), "--rounds", "3", "--write"],
      {
        stdio: "inherit",
        cwd: repo,
      },
    );
  }
}

function statExists(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

await main();
