/**
 * `--kind all` work sharing (lib/interp/trace.ts runTraceKinds): the three kinds from one clean
 * and one corrupted run give exactly the grids of three separate traces (both strategies, noise
 * and counterfactual corruption), spend fewer evaluations, stream rows tagged with their kind and
 * leave no tensors. Separate runTrace calls are themselves checked against numpy
 * (test/interp-trace.test.ts), so this pins the shared path to the same numbers.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../lib/engine";
import type { TraceKind, TraceSpec } from "../lib/interp/spec";
import { runTrace, runTraceKinds, type TraceRow } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import { loadEngine, maxDiff } from "./interp-helpers";

const PROMPT = [12, 201, 77, 45, 160, 33, 98, 250, 5, 141];
const CF = [12, 30, 53, 45, 160, 33, 98, 250, 5, 141];
const KINDS: TraceKind[] = ["hidden", "mlp", "attn"];

let engine: Engine;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine("tiny-4l");
});
afterAll(() => engine?.dispose());

describe("runTraceKinds", () => {
  const specs: [string, Omit<TraceSpec, "kind">][] = [
    ["noise", { prompt: PROMPT, subject: [2, 5], samples: 3, window: 3, seed: 9 }],
    ["prompt", { prompt: PROMPT, window: 2, corruption: { type: "prompt", prompt: CF } }],
  ];
  for (const strategy of ["fast", "naive"] as const) {
    for (const [name, spec] of specs) {
      it(`${strategy}, ${name} corruption: the grids of separate traces, fewer evaluations`, async () => {
        const before = tf.memory().numTensors;
        const rows: TraceRow[] = [];
        const work = { total: 0, base: 0 };
        const shared = await runTraceKinds(engine, { ...spec, strategy }, KINDS, {
          onRow: (r) => rows.push(r),
          onProgress: (p) => {
            work.total = Math.max(work.total, p.total);
            if (p.phase === "clean") work.base = p.total;
          },
        });
        expect(tf.memory().numTensors).toBe(before);
        let separate = 0;
        for (const [i, kind] of KINDS.entries()) {
          let total = 0;
          const alone = await runTrace(
            engine,
            { ...spec, kind, strategy },
            {
              onProgress: (p) => {
                total = Math.max(total, p.total);
              },
            },
          );
          const r = shared[i];
          expect(r.kind).toBe(kind);
          expect(r.window).toBe(alone.window);
          expect(r.sharedBaseline).toBe(true);
          expect(r.high).toBe(alone.high);
          expect(r.low).toBe(alone.low);
          expect(maxDiff(r.scores, alone.scores)).toBe(0);
          expect(r.evaluations).toBe(alone.evaluations); // the shared runs counted in each
          expect(rows.filter((x) => x.kind === kind)).toHaveLength(PROMPT.length);
          separate += total;
        }
        // the clean and corrupted runs were done once instead of three times
        expect(work.base).toBeGreaterThan(0);
        expect(work.total).toBe(separate - 2 * work.base);
      });
    }
  }

  it("a single kind equals runTrace; no kind is a clear error", async () => {
    const spec = { prompt: PROMPT, subject: [1, 3] as [number, number], samples: 2 };
    const [one] = await runTraceKinds(engine, spec, ["mlp"]);
    const alone = await runTrace(engine, { ...spec, kind: "mlp" });
    expect(one.scores).toEqual(alone.scores);
    expect(one.sharedBaseline).toBeUndefined();
    await expect(runTraceKinds(engine, spec, [])).rejects.toThrow(/no trace kind/);
  });
});
