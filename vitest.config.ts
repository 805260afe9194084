import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { sharedModuleFiles } from "./test/helpers/isolation";
import { SlowFirstSequencer } from "./test/helpers/slow-first";
import { workLimit } from "./test/helpers/work-budget";

const root = fileURLToPath(new URL(".", import.meta.url));
/** Files that leave no state in a process (test/helpers/isolation.ts): they share forks. */
const shared = sharedModuleFiles(root);

export default defineConfig({
  resolve: { alias: { "@": root } },
  test: {
    environment: "node",
    // only a hang fails on time: slow tests set limits scaled to their work
    // (test/helpers/work-budget.ts); CAUSEWAY_TEST_TIME_SCALE stretches these too
    testTimeout: workLimit({ units: 1, perUnitMs: 600_000 }),
    hookTimeout: workLimit({ units: 1, perUnitMs: 600_000 }),
    pool: "forks",
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      // tfjs holds one global engine per process: these files each get a fresh fork
      {
        extends: true,
        test: { name: "engine", include: ["test/**/*.test.ts"], exclude: shared },
      },
      // pure code and per-test stores: one fork runs many files, importing shared modules once
      { extends: true, test: { name: "unit", include: shared, isolate: false } },
    ],
  },
});
