// The native server: the shell (start-up, sockets, epoll loop, connections) and the HTTP layer,
// linked for one target and squeezed. `buildServer(target)` is what images ship as /speck.

import { type AccessFeature, FEATURE, featureBits, featureNames } from "../../access/features.ts";
import { ACCESS_VERSION, H, HEADER_SIZE } from "../../pack/layout.ts";
import { ProgramBuilder } from "../ir/builder.ts";
import type { Program } from "../ir/types.ts";
import { type Linked, link } from "../link.ts";
import { type Squeezed, squeeze } from "../squeeze/index.ts";
import type { Target } from "../target/types.ts";
import type { CgroupFiles } from "./cgroup.ts";
import { DATE_LINE, DATE_LINE_LENGTH, G } from "./globals.ts";
import { emitHttp } from "./http/index.ts";
import { DEFAULT_TIMEOUTS, R, type Timeouts } from "./loop.ts";
import { emitProxy, RESOLVER_FILES, type ResolverFiles } from "./proxy/exchange.ts";
import { emitServerShell } from "./start.ts";

/** What a build of the server may change; tests shorten the time-outs. */
export interface ServerOptions {
  timeouts?: Timeouts;
  /**
   * The access features to enforce (`serverFeatures(pack)`); a server without one refuses a pack
   * that needs it. None by default: the plain server, which serves packs without access rules.
   */
  features?: readonly AccessFeature[];
  /** Where the proxy's resolver reads /etc/hosts and /etc/resolv.conf and sends DNS queries (tests only). */
  resolver?: ResolverFiles;
  /** Where the CPU quota is read (tests only). */
  cgroup?: CgroupFiles;
}

/** The access features a pack needs its server to enforce (none for a pack without access rules). */
export function serverFeatures(pack: Uint8Array): AccessFeature[] {
  const view = new DataView(pack.buffer, pack.byteOffset, pack.byteLength);
  if (pack.length < HEADER_SIZE || view.getUint32(H.version, true) !== ACCESS_VERSION) return [];
  return featureNames(view.getUint32(H.accessFeatures, true));
}

/** The server as an IR program for `target` (kernel layouts and constants differ by arch). */
export function serverProgram(target: Target, options: ServerOptions = {}): Program {
  const p = new ProgramBuilder();
  const features = featureBits(options.features ?? []);
  emitServerShell(p, target, options.timeouts ?? DEFAULT_TIMEOUTS, features, options.cgroup);
  emitHttp(
    p,
    {
      pack: G.pack,
      dateLine: DATE_LINE,
      dateLineLength: DATE_LINE_LENGTH,
      response: G.response,
      sockaddr: G.sockaddr,
      R,
    },
    features,
  );
  if (features & FEATURE.proxy)
    emitProxy(p, target, {
      resolver: options.resolver ?? RESOLVER_FILES,
      trusted: (features & FEATURE.trustedProxies) !== 0,
    });
  return p.build("_start");
}

export interface BuiltServer {
  /** The executable an image ships: the linked server, squeezed (see native/squeeze). */
  elf: Uint8Array;
  /** The server as linked, which `elf` writes back into memory at start: sizes per function. */
  linked: Linked;
  squeezed: Squeezed["sizes"];
}

/** The server for `target` as linked, before squeezing (what `--no-squeeze` ships). */
export function linkServer(target: Target, options: ServerOptions = {}): Linked {
  return link(serverProgram(target, options), target, { optimize: true });
}

/** The server for `target`: linked, then squeezed. */
export function buildServer(target: Target, options: ServerOptions = {}): BuiltServer {
  const linked = linkServer(target, options);
  const { elf, sizes } = squeeze(linked.elf, target);
  return { elf, linked, squeezed: sizes };
}
