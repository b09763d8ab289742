// A Dockerfile FROM scratch that makes the image speck builds, for people whose pipelines build with
// Dockerfiles (BuildKit, Kaniko, CI templates): the server and the pack copied in with the modes they
// already have in the build context, then the run configuration line by line.

import { PACK_PATH, SERVER_PATH } from "./build.ts";
import type { Healthcheck, RunConfig } from "./oci.ts";

const SECOND = 1_000_000_000;

function duration(nanoseconds: number): string {
  return nanoseconds % SECOND === 0 ? `${nanoseconds / SECOND}s` : `${nanoseconds / 1_000_000}ms`;
}

/**
 * HEALTHCHECK flags. `--start-interval` is left out: Docker's classic builder before version 25
 * refuses it, and without it the probe simply runs at `--interval` while starting.
 */
function healthcheckLine(check: Healthcheck): string {
  const [kind, ...command] = check.Test;
  if (kind === "NONE") return "HEALTHCHECK NONE";
  const flags = [
    check.Interval ? `--interval=${duration(check.Interval)}` : "",
    check.Timeout ? `--timeout=${duration(check.Timeout)}` : "",
    check.StartPeriod ? `--start-period=${duration(check.StartPeriod)}` : "",
    check.Retries ? `--retries=${check.Retries}` : "",
  ].filter(Boolean);
  const cmd = kind === "CMD-SHELL" ? command.join(" ") : JSON.stringify(command);
  return ["HEALTHCHECK", ...flags, "CMD", cmd].join(" ");
}

/** The Dockerfile for `config`, to be built in a folder holding `speck` (0555) and `site.pack` (0444). */
export function dockerfile(config: RunConfig): string {
  const lines = ["FROM scratch", `COPY ${SERVER_PATH} ${PACK_PATH} /`];
  if (config.User) lines.push(`USER ${config.User}`);
  for (const port of Object.keys(config.ExposedPorts ?? {}).sort()) lines.push(`EXPOSE ${port}`);
  for (const variable of config.Env ?? []) {
    const at = variable.indexOf("=");
    lines.push(`ENV ${variable.slice(0, at)}=${JSON.stringify(variable.slice(at + 1))}`);
  }
  for (const [key, value] of Object.entries(config.Labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)))
    lines.push(`LABEL ${JSON.stringify(key)}=${JSON.stringify(value)}`);
  if (config.WorkingDir) lines.push(`WORKDIR ${config.WorkingDir}`);
  if (config.StopSignal) lines.push(`STOPSIGNAL ${config.StopSignal}`);
  if (config.Healthcheck) lines.push(healthcheckLine(config.Healthcheck));
  if (config.Entrypoint) lines.push(`ENTRYPOINT ${JSON.stringify(config.Entrypoint)}`);
  return `${lines.join("\n")}\n`;
}
