/** Runs `bin/causeway.mjs` as a user would, returning its exit code and both streams. */
import { execFile } from "node:child_process";
import path from "node:path";
import { ROOT } from "../../scripts/reference/golden";
import { workLimit } from "./work-budget";

const BIN = path.join(ROOT, "bin/causeway.mjs");

/** One CLI run only hangs past this (the test's own limit, scaled to its work, comes first). */
const RUN_LIMIT_MS = workLimit({ units: 1, perUnitMs: 900_000 });

export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, timeout: RUN_LIMIT_MS },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        const killed = (err as { killed?: boolean } | null)?.killed
          ? `\n[runCli: killed after ${RUN_LIMIT_MS} ms; on a slow machine raise CAUSEWAY_TEST_TIME_SCALE]`
          : "";
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr: stderr + killed });
      },
    );
  });
}
