// How the server opens files (the pack, the cgroup's CPU quota, credential files, /etc/hosts and
// /etc/resolv.conf): openat relative to the working directory, read-only, closed on exec.

export const AT_FDCWD = -100n;
export const O_RDONLY_CLOEXEC = 0o2000000;
