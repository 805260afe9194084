/**
 * Which test files may share one process's modules (vitest.config.ts's "unit" project,
 * isolate: false) instead of each starting a fresh fork and importing everything again. On the
 * 2-core CI machine that start-up (~1–2 s a file under load) cost more than most pure files'
 * tests themselves.
 *
 * A file shares only when its text names none of the things that leave state behind in a
 * process or depend on a fresh one: tfjs or the engine (one global engine and its tensors per
 * process), the CLI (runCli changes the environment and exit code), child processes, vi's mocks,
 * spies and stubs, process.env / chdir / listeners, globalThis. Everything else (pure functions,
 * stores made fresh per test) runs unchanged, just without a new process per file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** Text that makes a file run in its own fork. */
const NEEDS_ISOLATION =
  /@tensorflow|backends-node|selectBackend|Engine|interp-helpers|runCli|child_process|\bvi\.|process\.(env|chdir|on|exitCode)|globalThis/;

/** Owned elsewhere and not reviewed for shared state here: kept in their own forks. */
const KEEP_ISOLATED = new Set(["share-trust.test.ts", "load-link-gate.test.ts"]);

/** The test files (relative to `root`, e.g. "test/viz-grid.test.ts") that may share modules. */
export function sharedModuleFiles(root: string): string[] {
  const dir = path.join(root, "test");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".test.ts") && !KEEP_ISOLATED.has(f))
    .filter((f) => !NEEDS_ISOLATION.test(readFileSync(path.join(dir, f), "utf8")))
    .map((f) => `test/${f}`)
    .sort();
}
