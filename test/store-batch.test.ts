/**
 * The batch slice (lib/store/batch-slice.ts) against a fake worker port, and the Batch form's
 * checks (components/edit-forms/batch-recipe.ts): the learned edits a run posts go onto the edit
 * stack as one undoable change when it ends, fails, is cancelled or is stopped by a model load
 * (nothing learned is lost, nothing pushed twice); "the next N cases" continue after the last
 * run's cases; pasted rewrites and layer ranges are refused with specific messages.
 */
import { beforeEach, describe, expect, it } from "vitest";
import {
  batchSpec,
  mlpPeak,
  parseLayers,
  parseRewrites,
  rangeAtPeak,
} from "../components/edit-forms/batch-recipe";
import type { BatchRunResult, BatchRunSpec } from "../lib/batch-jobs";
import type { Edit } from "../lib/edit/types";
import { curveCsv } from "../lib/export/edit-curve";
import type { FromWorker, ModelInfo } from "../lib/protocol";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

class BatchPort extends FakePort {
  readonly batches: { reqId: number; run: BatchRunSpec }[] = [];
  batchCancels = 0;
  batchEdit(run: BatchRunSpec): number {
    const reqId = this.latest.issue("batchEdit");
    this.batches.push({ reqId, run });
    return reqId;
  }
  cancelBatch(): void {
    this.latest.forget("batchEdit");
    this.batchCancels++;
  }
  batchMethods(): number {
    return this.latest.issue("batchMethods");
  }
}

const TINY: ModelInfo = {
  name: "tiny-facts",
  nParams: 1,
  config: { nLayer: 6, nHead: 4, dModel: 128, nCtx: 64, vocabSize: 1303 } as ModelInfo["config"],
};

const SPEC: BatchRunSpec = {
  method: "memit",
  cases: { from: "model", suite: "counterfact", start: 0, count: 4 },
  batch: 2,
  sequential: true,
  cov: "identity",
  fluency: false,
  texts: 0,
  cacheStats: false,
};

const memit = (n: number): Edit =>
  ({
    kind: "memit",
    site: { layers: [0, 1] },
    params: { requests: [{ prompt: "{} is", subject: `s${n}`, target_new: "x" }] },
    learned: { layers: [{ layer: 0, a: [1], b: [n] }] },
  }) as Edit;

const point = (edits: number) => ({
  edits,
  n_cases: edits,
  efficacy: 1,
  paraphrase: 0.5,
  neighborhood: 0.9,
  score: 0.7,
  efficacy_diff: 0.2,
  paraphrase_diff: 0.1,
  neighborhood_diff: 0.05,
  fluency: null,
  general_text_ratio: null,
});

let store: CausewayStore;
let port: BatchPort;
const st = () => store.getState();
const lastBatch = () => port.batches.at(-1)!.reqId;
const deliver = (m: FromWorker) => port.deliver(m);
const learned = (done: number, edits: Edit[]) =>
  deliver({
    type: "progress",
    reqId: lastBatch(),
    request: "batchEdit",
    phase: "learned",
    done,
    total: 2,
    edits,
  });

beforeEach(() => {
  store = createCausewayStore({ debounceMs: 0, initialPrompt: "", examples: [] });
  port = new BatchPort().listen((m, lane) => st().receive(m, lane));
  st().connect(port);
  st().loadModel({ kind: "bundled", name: "tiny-facts" });
  deliver({ type: "load", reqId: port.loads.at(-1)!.reqId, backend: "wasm", model: TINY });
});

describe("the batch slice", () => {
  it("a finished run pushes its edits once, keeps its curve, and moves the next case on", () => {
    st().loadBatchMethods();
    deliver({
      type: "batchMethods",
      reqId: port.latest.current("batchMethods"),
      methods: ["rome", "memit", "memit+blue"],
    });
    expect(st().batch.methods).toEqual(["rome", "memit", "memit+blue"]);
    st().runBatch(SPEC);
    expect(st().batch.status).toBe("running");
    expect(st().batch.nextCase).toBe(4);
    learned(1, [memit(1)]);
    deliver({
      type: "progress",
      reqId: lastBatch(),
      request: "batchEdit",
      phase: "score",
      done: 1,
      total: 2,
      point: point(2),
    });
    learned(2, [memit(2)]);
    expect(st().edits.stack).toHaveLength(0); // not before the run ends
    const result = {
      method: "memit",
      batch: 2,
      sequential: true,
      n_cases: 4,
      edited: point(4),
      unedited: point(0),
      general_text_nll: null,
      curve: [point(2), point(4)],
      cases: [],
      stats: [],
    } as unknown as BatchRunResult;
    deliver({ type: "batchEdit", reqId: lastBatch(), result });
    expect(st().batch.status).toBe("done");
    expect(st().batch.curve.map((p) => p.edits)).toEqual([2, 4]);
    expect(
      st().edits.stack.map(
        (e) => (e as { params: { requests: { subject: string }[] } }).params.requests[0].subject,
      ),
    ).toEqual(["s1", "s2"]);
    expect(port.setEditsCalls.at(-1)!.edits).toHaveLength(2);
    // one undo removes the whole run
    st().undoEdits();
    expect(st().edits.stack).toHaveLength(0);
    // the CSV has the CLI's columns, a row per curve point
    const csv = curveCsv([result]).trim().split("\n");
    expect(csv[0]).toBe(
      "method,edits,efficacy,paraphrase,neighborhood,score,efficacy_diff,paraphrase_diff,neighborhood_diff,fluency,general_text_ratio",
    );
    expect(csv.slice(1)).toEqual([
      "memit,2,1,0.5,0.9,0.7,0.2,0.1,0.05,,",
      "memit,4,1,0.5,0.9,0.7,0.2,0.1,0.05,,",
    ]);
  });

  it("a cancel or a failure keeps the edits learned before it", () => {
    st().runBatch(SPEC);
    learned(1, [memit(1)]);
    st().runBatch(SPEC); // one run at a time: ignored
    expect(port.batches).toHaveLength(1);
    st().cancelBatch();
    expect(port.batchCancels).toBe(1);
    expect(st().batch.status).toBe("cancelled");
    expect(st().edits.stack).toHaveLength(1);
    learned(2, [memit(2)]); // after the cancel: dropped
    expect(st().edits.stack).toHaveLength(1);

    st().runBatch({ ...SPEC, cases: { from: "model", suite: "counterfact", start: 4, count: 2 } });
    learned(1, [memit(3)]);
    deliver({ type: "error", reqId: lastBatch(), code: "bad_edit", message: "memit, batch 2: no" });
    expect(st().batch.status).toBe("error");
    expect(st().batch.error?.message).toMatch(
      /batch 2: no \(the 1 edits learned before it are on the stack\)/,
    );
    expect(st().edits.stack).toHaveLength(2);
  });

  it("a model load stops the run and keeps what it learned", () => {
    st().loadBatchMethods();
    deliver({
      type: "batchMethods",
      reqId: port.latest.current("batchMethods"),
      methods: ["memit"],
    });
    st().runBatch(SPEC);
    learned(1, [memit(1)]);
    st().loadModel({ kind: "bundled", name: "tiny-facts-llama" });
    expect(st().batch.status).toBe("cancelled");
    expect(st().batch.error?.message).toMatch(/model load/);
    expect(st().edits.stack).toHaveLength(1);
    expect(st().batch.nextCase).toBe(0); // another model: its cases start again
    expect(st().batch.methods).toEqual(["memit"]); // the worker's, not the model's
  });
});

describe("the Batch form's checks", () => {
  const ctx = {
    nLayer: 6,
    hasDataset: true,
    imported: null,
    corpus: null,
    methods: ["rome", "memit", "memit+blue"],
  };
  const draft = {
    source: "paste" as const,
    suite: "counterfact" as const,
    start: 0,
    count: 3,
    pasted: "",
    method: "memit",
    blue: false,
    layers: "",
    batch: 3,
    sequential: true,
    steps: null,
    cov: "identity" as const,
    fluency: false,
    cacheStats: true,
  };
  it("pasted rewrites in ROME's fields become CounterFact cases; mistakes are named", () => {
    const cases = parseRewrites(
      [
        '{"prompt": "Ralkrok Stennos lives in the city of", "subject": "Ralkrok Stennos", "target_new": "Halvek", "target_true": "Parrow"}',
        '{"prompt": "{} speaks", "subject": "Rekin Staral", "target_new": "Velsh", "target_true": "Orvic"}',
      ].join("\n"),
    );
    expect(cases.map((c) => c.requested_rewrite.prompt)).toEqual([
      "{} lives in the city of",
      "{} speaks",
    ]);
    expect(() =>
      parseRewrites('{"prompt": "x of", "subject": "Y", "target_new": "a", "target_true": "b"}'),
    ).toThrow(/line 1: the subject "Y" is not in its prompt/);
    expect(() => parseRewrites('[{"prompt": "{} of", "subject": "Y", "target_new": "a"}]')).toThrow(
      /item 1: no target_true/,
    );
    expect(() => parseRewrites("{nope")).toThrow(/line 1 is not JSON/);
    const r = batchSpec({ ...draft, pasted: "" }, ctx);
    expect("error" in r && r.error).toMatch(/Paste some rewrites/);
  });

  it("layers default to a range ending at the MLP trace's peak; bad ranges are refused", () => {
    expect(rangeAtPeak(6, 0, "memit")).toEqual([0, 1]);
    expect(rangeAtPeak(6, 3, "memit")).toEqual([2, 3]);
    expect(rangeAtPeak(48, 17, "memit")).toEqual([13, 14, 15, 16, 17]);
    expect(rangeAtPeak(6, 3, "rome")).toEqual([3]);
    expect(parseLayers("1-3", 6)).toEqual([1, 2, 3]);
    expect(parseLayers("3,1", 6)).toMatch(/ascending/);
    expect(parseLayers("5,6", 6)).toMatch(/0 to 5/);
    const values = new Float32Array(2 * 6).fill(0.1);
    values[1 * 6 + 4] = 0.9; // row 1 (the subject's last token), layer 4
    values[0 * 6 + 2] = 2; // outside the subject's last token: ignored
    const trace = { grids: { mlp: { values, rows: 2, cols: 6, filled: 2 } }, subject: [0, 2] };
    expect(mlpPeak(trace as never)).toBe(4);
    expect(mlpPeak(null)).toBeNull();
  });

  it("builds the run or names what is missing", () => {
    const ok = batchSpec({ ...draft, source: "model", layers: "1,2", blue: true }, ctx);
    expect("spec" in ok && ok.spec).toMatchObject({
      method: "memit+blue",
      layers: [1, 2],
      cases: { from: "model", suite: "counterfact", start: 0, count: 3 },
      batch: 3,
    });
    const miss = (patch: object, c: object = {}) => {
      const r = batchSpec({ ...draft, source: "model", ...patch }, { ...ctx, ...c });
      return "error" in r ? r.error : "";
    };
    expect(miss({ method: "pmet" })).toMatch(/pmet is not available/);
    expect(miss({ batch: 0 })).toMatch(/batch/i);
    expect(miss({}, { hasDataset: false })).toMatch(/no dataset/);
    expect(miss({ source: "file" })).toMatch(/CounterFact or zsRE file/);
    expect(miss({ cov: "general_text" }, { hasDataset: false })).toMatch(/./);
  });
});
