#!/usr/bin/env bash
# Starts the services the tests use (idempotent; safe to run again at any time): a Docker engine,
# qemu-aarch64 registered with binfmt_misc so arm64 images and binaries run, and a podman that
# works as root on this machine.
set -euo pipefail

log_dir=/var/log/speck-ci
mkdir -p "$log_dir"

# --- binfmt_misc: run aarch64 ELF files through qemu-user-static ---------------------------------
binfmt=/proc/sys/fs/binfmt_misc
if [ ! -e "$binfmt/register" ]; then
  mount -t binfmt_misc binfmt_misc "$binfmt" || echo "services: cannot mount binfmt_misc (arm64 tests will fail)" >&2
fi
if [ -e "$binfmt/register" ] && [ ! -e "$binfmt/qemu-aarch64" ] && [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
  # The F flag opens the interpreter now, so it also works inside containers and chroots.
  grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | head -n 1 >"$binfmt/register"
fi

# --- podman as root: vfs storage, cgroupfs, no systemd, and rlimits within the hard limits --------
# Without CAP_SYS_RESOURCE (VMs and CI containers often lack it) runc cannot raise the rlimits
# podman asks for by default (nofile up to nr_open), so ask for modest limits under the hard ones.
cap() { local hard; hard=$(ulimit -H "$1"); if [ "$hard" = unlimited ] || [ "$hard" -gt 16384 ]; then echo 16384; else echo "$hard"; fi; }
marker="# Written by speck's .ci/services.sh"
if command -v podman >/dev/null 2>&1; then
  mkdir -p /etc/containers
  if [ ! -f /etc/containers/storage.conf ] || grep -q "$marker" /etc/containers/storage.conf; then
    cat >/etc/containers/storage.conf <<EOF
$marker: plain root storage that works in VMs and containers.
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
  fi
  if [ ! -f /etc/containers/containers.conf ] || grep -q "$marker" /etc/containers/containers.conf; then
    cat >/etc/containers/containers.conf <<EOF
$marker: no systemd, rlimits this machine allows.
[containers]
default_ulimits = ["nofile=$(cap -n):$(cap -n)", "nproc=$(cap -u):$(cap -u)"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  fi
fi

# --- dockerd -----------------------------------------------------------------------------------
docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if command -v dockerd >/dev/null 2>&1 && ! docker_answers; then
  setsid nohup dockerd >>"$log_dir/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker_answers && break
    sleep 1
  done
  if ! docker_answers; then
    echo "services: dockerd did not answer within 60 s; see $log_dir/dockerd.log" >&2
    tail -n 20 "$log_dir/dockerd.log" >&2
    exit 1
  fi
fi
