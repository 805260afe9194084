/** What scripts/bench.mjs records about the machine: CPU, OS and the tfjs version. */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function tfjsVersion(root) {
  try {
    return JSON.parse(
      readFileSync(path.join(root, "node_modules", "@tensorflow", "tfjs", "package.json"), "utf8"),
    ).version;
  } catch {
    return "?";
  }
}

export function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m) return m[1].trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model ?? "unknown CPU";
}

export function osName() {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) return `${m[1]}, Linux ${os.release()}`;
  } catch {
    // not Linux
  }
  return `${os.type()} ${os.release()}`;
}
