// The CPUs a container's CPU quota allows (`docker run --cpus`, a Kubernetes CPU limit), read from
// its cgroup at start-up: the default worker count is the smaller of that and the CPUs the process
// may run on, since workers beyond the quota only burn it together and then all wait for the next
// period (the tail latency of throttling).

import type { ProgramBuilder } from "../ir/builder.ts";
import { AT_FDCWD, O_RDONLY_CLOEXEC } from "./files.ts";

/** Where the quota is: cgroup v2's cpu.max ("max 100000" or "150000 100000"), else cgroup v1's pair. */
export interface CgroupFiles {
  cpuMax: string;
  cfsQuota: string;
  cfsPeriod: string;
}
export const CGROUP_FILES: CgroupFiles = {
  cpuMax: "/sys/fs/cgroup/cpu.max",
  cfsQuota: "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
  cfsPeriod: "/sys/fs/cgroup/cpu/cpu.cfs_period_us",
};

/** Bytes read of each file: a quota and a period, in decimal, fit many times over. */
const VALUE_BYTES = 63;

/**
 * Emits `cpu_quota()` → the CPUs the quota allows, rounded up, or 0 when there is none (no file,
 * "max", "-1"), and `read_value(path)` → the scratch buffer holding the file's first bytes,
 * NUL-terminated, or 0 when it cannot be read. Needs `parse_uint` and the loop's `scratch`.
 */
export function emitCpuQuota(p: ProgramBuilder, files: CgroupFiles = CGROUP_FILES): void {
  p.rodata("cgroup_cpu_max", `${files.cpuMax}\0`)
    .rodata("cgroup_cfs_quota", `${files.cfsQuota}\0`)
    .rodata("cgroup_cfs_period", `${files.cfsPeriod}\0`);
  p.func("read_value", { saves: ["s0"] }, (f) => {
    f.mov("a1", "a0").mov("a0", AT_FDCWD).mov("a2", O_RDONLY_CLOEXEC).mov("a3", 0).syscall("openat");
    f.br("lt", "a0", 0, "none").mov("s0", "a0").addr("a1", "scratch").mov("a2", VALUE_BYTES).syscall("read");
    // close keeps a1 (the buffer) and a3 (the bytes read)
    f.mov("a3", "a0").mov("a0", "s0").syscall("close").br("le", "a3", 0, "none");
    f.store(1, 0, { base: "a1", index: "a3" }).mov("a0", "a1").ret();
    f.label("none").mov("a0", 0).ret();
  });
  p.func("cpu_quota", { saves: ["s0"] }, (f) => {
    f.addr("a0", "cgroup_cpu_max").call("read_value").br("eq", "a0", 0, "v1");
    // "max ..." has no digits: parse_uint gives 0
    f.call("parse_uint").br("eq", "a0", 0, "none").mov("s0", "a0").add("a0", "a1", 1).call("parse_uint");
    f.jmp("divide");
    // "-1" (no quota) has no leading digits either
    f.label("v1").addr("a0", "cgroup_cfs_quota").call("read_value").br("eq", "a0", 0, "none");
    f.call("parse_uint").br("eq", "a0", 0, "none").mov("s0", "a0");
    f.addr("a0", "cgroup_cfs_period").call("read_value").br("eq", "a0", 0, "none").call("parse_uint");
    f.label("divide").br("eq", "a0", 0, "none");
    f.add("a1", "s0", "a0").sub("a1", "a1", 1).udiv("a0", "a1", "a0").ret();
    f.label("none").mov("a0", 0).ret();
  });
}
