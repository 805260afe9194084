import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { SlowFirstSequencer } from "./test/helpers/slow-first";
import { workLimit } from "./test/helpers/work-budget";

export default defineConfig({
  resolve: { alias: { "@": fileURLToPath(new URL(".", import.meta.url)) } },
  test: {
    include: ["test/**/*.test.ts"],
    environment: "node",
    // only a hang fails on time: slow tests set limits scaled to their work
    // (test/helpers/work-budget.ts); CAUSEWAY_TEST_TIME_SCALE stretches these too
    testTimeout: workLimit({ units: 1, perUnitMs: 600_000 }),
    hookTimeout: workLimit({ units: 1, perUnitMs: 600_000 }),
    // tfjs holds one global engine per process: keep files in separate forks, two at a time.
    pool: "forks",
    maxWorkers: 2,
    sequence: { sequencer: SlowFirstSequencer },
  },
});
