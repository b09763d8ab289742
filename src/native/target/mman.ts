// mmap and mprotect flags: the same values on x86-64 and arm64 (include/uapi/asm-generic/mman-common.h
// and mman.h), so unlike linux.ts they need no table per target.

export const PROT_READ = 1;
export const PROT_READ_WRITE = 3;
export const PROT_READ_EXEC = 5;
export const MAP_PRIVATE = 2;
export const MAP_FIXED = 0x10;
export const MAP_PRIVATE_ANONYMOUS = 0x22;
/** MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE: pages cost memory only once touched. */
export const MAP_LAZY_ANONYMOUS = 0x4022;
