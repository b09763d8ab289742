import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";
import { inCI } from "../test/support/tools.ts";
import { treeCpuSeconds } from "./cpu.ts";
import { cpuQuota } from "./quota.ts";

test("a CPU quota holds a busy process to its share of a core, and lets it go again", async (t) => {
  const quota = cpuQuota(`test-${process.pid}`, 0.2);
  if (typeof quota === "string") {
    if (inCI) throw new Error(`${quota} (needed in CI: run as root on Linux)`);
    t.skip(quota);
    return;
  }
  const spinner = spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" });
  const pid = spinner.pid!;
  const cpuOver = async (seconds: number) => {
    const before = treeCpuSeconds(pid);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return treeCpuSeconds(pid) - before;
  };
  try {
    quota.hold([pid]);
    const held = await cpuOver(1);
    quota.release([pid]);
    const free = await cpuOver(1);
    // 20% of a core is 0.2 s a second; unlimited, the loop takes most of a core
    assert.ok(held < 0.35, `held to 20%, the loop used ${held.toFixed(2)} s of CPU in 1 s`);
    assert.ok(free > held * 1.5, `released, the loop used ${free.toFixed(2)} s, held ${held.toFixed(2)} s`);
  } finally {
    spinner.kill("SIGKILL");
    await new Promise((resolve) => spinner.once("exit", resolve));
    quota.remove();
  }
});
