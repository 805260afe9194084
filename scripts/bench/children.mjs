/**
 * The child processes of scripts/bench.mjs: the Node benchmark (scripts/bench/node-entry.mjs)
 * and the peers part (scripts/bench/peers.mts), and what to stop if the run is interrupted.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

/** Children to stop if the run is interrupted (the Node child, the server, Chromium). */
export const cleanups = new Set();

/** On SIGINT or SIGTERM: stops what is in cleanups and exits with 130. */
export function stopChildrenOnSignal() {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, async () => {
      console.error(`bench: ${sig}: stopping`);
      for (const c of cleanups) {
        try {
          await c();
        } catch {
          // already gone
        }
      }
      process.exit(130);
    });
  }
}

/** The Node benchmark in a child process; resolves to the JSON it writes to outFile. */
export function runNode({ root, plan, outFile }) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, "scripts", "bench", "node-entry.mjs"),
        JSON.stringify({
          root,
          bundled: plan.bundled,
          gpt2small: plan.gpt2small,
          seed: plan.seed,
          outFile,
        }),
      ],
      { cwd: root, stdio: "inherit" },
    );
    const stop = () => child.kill("SIGTERM");
    cleanups.add(stop);
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      cleanups.delete(stop);
      if (code === 0) resolve(JSON.parse(readFileSync(outFile, "utf8")));
      else reject(new Error(`the Node benchmark exited with ${code ?? signal}`));
    });
  });
}

/** The peers part (scripts/bench/peers.mts) in a child process; resolves to its exit code. */
export function runPeers({ root, docs }) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(root, "scripts", "bench", "peers.mts"),
        ...(docs ? ["--docs"] : []),
      ],
      { cwd: root, stdio: "inherit" },
    );
    const stop = () => child.kill("SIGTERM");
    cleanups.add(stop);
    child.on("exit", (code) => {
      cleanups.delete(stop);
      resolve(code ?? 1);
    });
  });
}
