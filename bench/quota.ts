// A CPU bandwidth limit for one server's processes, through the kernel's cpu cgroup controller (v1
// `cpu.cfs_quota_us` or v2 `cpu.max`). On a two-core machine wrk's one core tops out at about 120k
// responses a second whatever the server, so the fastest servers tie; held to a fraction of its core,
// each server becomes the limit again and requests per second rank the servers' own work.

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The scheduling period; short, so a throttled server pauses for milliseconds, not a tenth of a second. */
const PERIOD_US = 10_000;

interface Hierarchy {
  root: string;
  limit(group: string, quotaUs: number): void;
}

function hierarchy(): Hierarchy | string {
  const v1 = "/sys/fs/cgroup/cpu";
  if (existsSync(join(v1, "cpu.cfs_quota_us")))
    return {
      root: v1,
      limit(group, quotaUs) {
        writeFileSync(join(group, "cpu.cfs_period_us"), String(PERIOD_US));
        writeFileSync(join(group, "cpu.cfs_quota_us"), String(quotaUs));
      },
    };
  const v2 = "/sys/fs/cgroup";
  const controllers = join(v2, "cgroup.controllers");
  if (existsSync(controllers) && readFileSync(controllers, "utf8").split(/\s+/).includes("cpu")) {
    const subtree = join(v2, "cgroup.subtree_control");
    if (!readFileSync(subtree, "utf8").split(/\s+/).includes("cpu")) writeFileSync(subtree, "+cpu");
    return {
      root: v2,
      limit: (group, quotaUs) => writeFileSync(join(group, "cpu.max"), `${quotaUs} ${PERIOD_US}`),
    };
  }
  return "no cpu cgroup controller (cgroup v1 /sys/fs/cgroup/cpu or v2 with +cpu) to limit a server with";
}

export interface CpuQuota {
  /** Moves these processes under the limit. */
  hold(pids: readonly number[]): void;
  /** Moves them back to the root group. */
  release(pids: readonly number[]): void;
  /** Removes the group (its processes must have left or ended). */
  remove(): void;
}

const movePids = (group: string, pids: readonly number[]) => {
  for (const pid of pids) {
    try {
      writeFileSync(join(group, "cgroup.procs"), String(pid));
    } catch (error) {
      // a process that ended meanwhile has nothing left to limit
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
};

/**
 * A group named `name` whose processes share `fraction` of one CPU, or why there can be none here
 * (not root, no cpu controller).
 */
export function cpuQuota(name: string, fraction: number): CpuQuota | string {
  const found = hierarchy();
  if (typeof found === "string") return found;
  const group = join(found.root, `speck-bench-${name}`);
  try {
    mkdirSync(group, { recursive: true });
    found.limit(group, Math.round(PERIOD_US * fraction));
  } catch (error) {
    return `cannot create ${group}: ${(error as Error).message}`;
  }
  return {
    hold: (pids) => movePids(group, pids),
    release: (pids) => movePids(found.root, pids),
    remove: () => rmdirSync(group),
  };
}
