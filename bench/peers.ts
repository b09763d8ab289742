// The static-file servers speck is measured against, each started the way its users tune it for
// static files, serving one folder on one loopback port. Used by the benchmarks and by their smoke test.

import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

export interface PeerOptions {
  /** Folder to serve. */
  root: string;
  port: number;
  /** Scratch folder for the peer's config, pid and temp files. */
  work: string;
  /** CPU list for `taskset -c` (e.g. "0"); all CPUs when absent. */
  cpus?: string;
}

export interface Peer {
  name: string;
  /** Commands the peer needs on PATH. */
  commands: string[];
  /** How to get them on Debian. */
  install: string;
  version(): string;
  /** False for servers that close every connection after one answer (h2load cannot load them). */
  keepAlive?: false;
  /** The command line that serves `root` on 127.0.0.1:`port` in the foreground. */
  command(options: PeerOptions): string[];
}

function firstLine(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: "utf8" });
  const text = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
  return text.split("\n")[0]!.trim() || "unknown";
}

/** Peers that drop privileges by default must be told to stay root when the benchmark runs as root. */
const asRoot = process.getuid?.() === 0;

function writeConfig(options: PeerOptions, name: string, text: string): string {
  mkdirSync(options.work, { recursive: true });
  const path = join(options.work, name);
  writeFileSync(path, text);
  return path;
}

const nginx: Peer = {
  name: "nginx",
  commands: ["nginx"],
  install: "apt-get install nginx-light",
  version: () => firstLine("nginx", ["-v"]).replace("nginx version: ", ""),
  command(o) {
    const conf = writeConfig(
      o,
      "nginx.conf",
      `daemon off;
${asRoot ? "user root;\n" : ""}worker_processes 1;
pid ${o.work}/nginx.pid;
error_log ${o.work}/nginx-error.log crit;
events { worker_connections 16384; use epoll; multi_accept on; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  open_file_cache max=10000 inactive=60s; open_file_cache_valid 60s; open_file_cache_errors on;
  keepalive_timeout 65; keepalive_requests 1000000;
  gzip_static on;
  client_body_temp_path ${o.work}/body; proxy_temp_path ${o.work}/proxy;
  fastcgi_temp_path ${o.work}/fastcgi; uwsgi_temp_path ${o.work}/uwsgi; scgi_temp_path ${o.work}/scgi;
  server { listen 127.0.0.1:${o.port} reuseport backlog=4096; root ${o.root}; index index.html; }
}
`,
    );
    return ["nginx", "-e", `${o.work}/nginx-error.log`, "-c", conf];
  },
};

const h2o: Peer = {
  name: "h2o",
  commands: ["h2o"],
  install: "apt-get install h2o",
  version: () => firstLine("h2o", ["--version"]).replace("h2o version ", ""),
  command(o) {
    const conf = writeConfig(
      o,
      "h2o.conf",
      `${asRoot ? "user: root\n" : ""}listen:
  host: 127.0.0.1
  port: ${o.port}
num-threads: 1
max-connections: 16384
http1-request-timeout: 65
pid-file: ${o.work}/h2o.pid
error-log: ${o.work}/h2o-error.log
file.send-compressed: ON
hosts:
  default:
    paths:
      /:
        file.dir: ${o.root}
`,
    );
    return ["h2o", "-m", "master", "-c", conf];
  },
};

const lighttpd: Peer = {
  name: "lighttpd",
  commands: ["lighttpd"],
  install: "apt-get install lighttpd",
  version: () => firstLine("lighttpd", ["-v"]).split(" ")[0]!.replace("lighttpd/", ""),
  command(o) {
    const conf = writeConfig(
      o,
      "lighttpd.conf",
      `server.document-root = "${o.root}"
server.bind = "127.0.0.1"
server.port = ${o.port}
server.pid-file = "${o.work}/lighttpd.pid"
server.errorlog = "${o.work}/lighttpd-error.log"
server.max-worker = 0
server.max-connections = 16384
server.max-fds = 32768
server.max-keep-alive-requests = 1000000
server.max-keep-alive-idle = 65
server.max-read-idle = 65
server.network-backend = "sendfile"
index-file.names = ( "index.html" )
include_shell "/usr/share/lighttpd/create-mime.conf.pl"
`,
    );
    return ["lighttpd", "-D", "-f", conf];
  },
};

const caddy: Peer = {
  name: "caddy",
  commands: ["caddy"],
  install: "apt-get install caddy",
  version: () => firstLine("caddy", ["version"]).split(" ")[0]!,
  command(o) {
    const conf = writeConfig(
      o,
      "Caddyfile",
      `{
  admin off
  auto_https off
  storage file_system ${o.work}/caddy-data
}
http://127.0.0.1:${o.port} {
  root * ${o.root}
  file_server {
    precompressed br gzip
  }
}
`,
    );
    return ["caddy", "run", "--adapter", "caddyfile", "--config", conf];
  },
};

const busybox: Peer = {
  name: "busybox-httpd",
  commands: ["busybox"],
  install: "apt-get install busybox-static",
  keepAlive: false,
  version: () => firstLine("busybox", []).split(" ")[1] ?? "unknown",
  command: (o) => ["busybox", "httpd", "-f", "-p", `127.0.0.1:${o.port}`, "-h", o.root],
};

const GO_FILE_SERVER = `package main

import (
	"net/http"
	"os"
)

func main() {
	http.ListenAndServe(os.Args[1], http.FileServer(http.Dir(os.Args[2])))
}
`;

/** Builds Go's http.FileServer (static, stripped: no libc needed, as in a FROM scratch image) into `work`. */
export function buildGoFileServer(work: string): string {
  const source = writeConfig({ root: "", port: 0, work }, "fileserver.go", GO_FILE_SERVER);
  const binary = join(work, "fileserver");
  execFileSync("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", binary, source], {
    env: {
      ...process.env,
      CGO_ENABLED: "0",
      GOCACHE: join(work, "gocache"),
      GOPATH: join(work, "gopath"),
    },
    stdio: "ignore",
  });
  return binary;
}

const goFileServer: Peer = {
  name: "go-fileserver",
  commands: ["go"],
  install: "apt-get install golang-go",
  version: () => firstLine("go", ["version"]).split(" ")[2]!,
  command: (o) => [buildGoFileServer(o.work), `127.0.0.1:${o.port}`, o.root],
};

/** Every peer, in the order tables list them. */
export const PEERS: readonly Peer[] = [nginx, h2o, lighttpd, caddy, busybox, goFileServer];

/** Resolves once 127.0.0.1:`port` answers an HTTP request with a status line; rejects on any error. */
function answers(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.setTimeout(1000, () => socket.destroy(new Error("timeout")));
    socket.once("connect", () =>
      socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    );
    socket.once("data", (chunk: Buffer) => {
      socket.destroy();
      if (chunk.subarray(0, 7).toString() === "HTTP/1.") resolve();
      else reject(new Error("not HTTP"));
    });
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("closed")));
  });
}

/** A started server and how long it took from spawn to its first answered request. */
export interface StartedServer {
  child: ChildProcess;
  /** Milliseconds from spawning the process to the first HTTP answer. */
  startup: number;
}

/**
 * Starts a server command (pinned with taskset when `cpus` is given) and resolves once its port
 * answers an HTTP request, polling about every millisecond so the start-up time is measured finely.
 */
export async function startServerTimed(command: string[], options: PeerOptions): Promise<StartedServer> {
  mkdirSync(options.work, { recursive: true });
  const argv = options.cpus ? ["taskset", "-c", options.cpus, ...command] : command;
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"], cwd: options.work });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = started + 15_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${command[0]} exited with ${child.exitCode}: ${stderr.trim()}`);
    try {
      await answers(options.port);
      return { child, startup: performance.now() - started };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  child.kill("SIGKILL");
  throw new Error(`${command[0]} did not answer on port ${options.port} within 15 s: ${stderr.trim()}`);
}

/** Starts a server command (see {@link startServerTimed}) and resolves once its port answers. */
export async function startServer(command: string[], options: PeerOptions): Promise<ChildProcess> {
  return (await startServerTimed(command, options)).child;
}

/** Stops a server and waits for it to exit. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
  await exited;
  clearTimeout(timer);
}
