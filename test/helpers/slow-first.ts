/**
 * Test file order for vitest.config.ts: the slowest files start first, so that with two workers
 * no minute-long file is the last to begin while the other worker sits idle. Without a results
 * cache (a clean clone, as in CI) vitest's own order is largest file first, which put the small
 * but slow edit-rome-bundled at the very end. Files not named keep vitest's order after these.
 */
import path from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The slowest files of the last whole-suite run on 2 cores (session 10, load ~8-11: 166, 93,
 * 84, 81, 77 and 70 s of tests each), slowest first.
 */
export const SLOW_FILES = [
  "test/edit-lora-bundled.test.ts",
  "test/consistency-app.test.ts",
  "test/edit-families-rome.test.ts",
  "test/batch-worker.test.ts",
  "test/edit-loreft-bundled.test.ts",
  "test/edit-rome-bundled.test.ts",
];

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOW_FILES.indexOf(path.relative(f.project.config.root, f.moduleId));
      return i < 0 ? SLOW_FILES.length : i;
    };
    // a stable sort: the rest keep vitest's order
    return sorted
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map(({ f }) => f);
  }
}
