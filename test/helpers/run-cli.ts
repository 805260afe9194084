/** Runs `bin/causeway.mjs` as a user would, returning its exit code and both streams. */
import { execFile } from "node:child_process";
import path from "node:path";
import { ROOT } from "../../scripts/reference/golden";

const BIN = path.join(ROOT, "bin/causeway.mjs");

export function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}
