/**
 * The app's batch / sequential editing (the worker's batchEdit request, workers/batch-job.ts)
 * and `causeway edit --counterfact 0:3 --method memit --batch 2 --sequential --no-fluency
 * --texts 10 --hparams '{"v_num_grad_steps":3,"mom2_n_samples":60,"mom2_dataset":"general_text"}'
 * --json` (lib/cli/edit-eval.ts evalRun, in process) on the same 3 bundled CounterFact cases give
 * identical scores, curve and per-case results. The worker posts
 * each batch's learned edits as it learns them, reads C through the storage cache (computed the
 * first time, from storage the second), and a cancelled run answers "cancelled" after keeping
 * the edits it had posted. The Batch form's SWEA run (batchSpec: no layers, no C, SWEA's
 * settings as hparams) equals `causeway edit --counterfact 0:2 --method swea --batch 1
 * --sequential --no-fluency --texts 5 --hparams '<the same>'` the same way.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchSpec } from "../components/edit-forms/batch-recipe";
import { defaultSweaSettings } from "../components/edit-forms/swea-recipe";
import type { BatchRunSpec } from "../lib/batch-jobs";
import { evalRun } from "../lib/cli/edit-eval";
import { loadDataset } from "../lib/cli/edit-inputs";
import type { MomentStore, StoredMoment } from "../lib/edit/cov-cache";
import type { EditDataset } from "../lib/edit/dataset";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { EditLane } from "../workers/edit-lane";
import { SideJobs } from "../workers/jobs";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;
let dataset: EditDataset | undefined;

const SPEC: BatchRunSpec = {
  method: "memit",
  cases: { from: "model", suite: "counterfact", start: 0, count: 3 },
  batch: 2,
  sequential: true,
  cov: "general_text",
  steps: 3,
  hparams: { mom2_n_samples: 60 },
  fluency: false,
  texts: 10,
  cacheStats: true,
};

const store = new Map<string, unknown>();
const mapStore: MomentStore = {
  get: async (k) => store.get(k),
  set: async (k, v: StoredMoment) => {
    store.set(k, structuredClone(v));
  },
};

function lane(posts: FromWorker[]) {
  return new EditLane({
    post: (m) => posts.push(m),
    engine: async () => engine,
    dataset: async () => dataset,
    runsIdle: async () => {},
    side: new SideJobs(),
    statsStore: () => mapStore,
  });
}

async function until(posts: FromWorker[], reqId: number, done: (m: FromWorker) => boolean) {
  for (let i = 0; i < 60_000; i++) {
    const m = posts.find((p) => p.reqId === reqId && done(p));
    if (m) return m;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`request ${reqId} never answered`);
}

const final = (m: FromWorker) => m.type === "batchEdit" || m.type === "error";

describe.skipIf(!present)("the app's batch run equals causeway edit --batch --sequential", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
    dataset = loadDataset(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it(
    "same scores, curve and cases; edits posted per batch; C from storage the second time",
    async () => {
      const posts: FromWorker[] = [];
      const edits = lane(posts);
      edits.lanes.batchMethods.submit({ type: "batchMethods", reqId: 1 });
      const methods = await until(posts, 1, (m) => m.type === "batchMethods");
      expect(methods.type === "batchMethods" && methods.methods).toContain("memit");

      edits.lanes.batchEdit.submit({ type: "batchEdit", reqId: 2, run: SPEC });
      const answer = await until(posts, 2, final);
      if (answer.type !== "batchEdit") throw new Error(JSON.stringify(answer));
      const app = answer.result;

      const cli = (await evalRun(
        engine,
        dataset,
        {
          counterfact: "0:3",
          method: "memit",
          batch: "2",
          sequential: true,
          "no-fluency": true,
          texts: "10",
          hparams: JSON.stringify({
            v_num_grad_steps: 3,
            mom2_n_samples: 60,
            mom2_dataset: "general_text",
          }),
        },
        () => {},
      )) as Record<string, unknown>;
      expect(app.n_cases).toBe(3);
      expect(app.curve.map((p) => p.edits)).toEqual([2, 3]);
      expect(app.curve).toEqual(cli.curve);
      expect(app.edited).toEqual(cli.edited);
      expect(app.cases).toEqual(cli.cases);
      expect(app.unedited).toEqual(cli.unedited);

      // every batch's edits came as progress, before the answer; C was computed and stored
      const learned = posts.filter(
        (m) => m.reqId === 2 && m.type === "progress" && "edits" in m && m.edits,
      );
      expect(learned).toHaveLength(2);
      expect(app.stats.map((s) => s.source)).toEqual(["computed", "computed"]);
      expect(store.size).toBe(2);

      // a second run reads both layers' C from storage
      edits.lanes.batchEdit.submit({
        type: "batchEdit",
        reqId: 3,
        run: { ...SPEC, cases: { ...SPEC.cases, count: 1 } as BatchRunSpec["cases"] },
      });
      const again = await until(posts, 3, final);
      if (again.type !== "batchEdit") throw new Error(JSON.stringify(again));
      expect(again.result.stats.map((s) => s.source)).toEqual(["storage", "storage"]);
    },
    // units: optimisation steps (3 per request, 5 requests) and cases scored (3 + 3 + 2 + 2)
    workLimit({ units: 25, perUnitMs: 4000, fixedMs: 20_000 }),
  );

  it(
    "a cancel after the first batch keeps its edits and answers cancelled",
    async () => {
      const posts: FromWorker[] = [];
      const edits = lane(posts);
      edits.lanes.batchEdit.submit({
        type: "batchEdit",
        reqId: 4,
        run: {
          ...SPEC,
          cases: { from: "model", suite: "counterfact", start: 3, count: 2 },
          batch: 1,
        },
      });
      await until(posts, 4, (m) => m.type === "progress" && "edits" in m && m.edits !== undefined);
      expect(edits.cancel(4)).toBe(true);
      const end = await until(posts, 4, final);
      expect(end.type === "error" && end.code).toBe("cancelled");
      expect(posts.some((m) => m.reqId === 4 && m.type === "batchEdit")).toBe(false);
    },
    workLimit({ units: 10, perUnitMs: 4000, fixedMs: 20_000 }),
  );

  it(
    "swea from the Batch form: same scores, curve and cases as causeway edit --method swea",
    async () => {
      const settings = defaultSweaSettings();
      const form = batchSpec(
        {
          source: "model",
          suite: "counterfact",
          start: 0,
          count: 2,
          pasted: "",
          method: "swea",
          blue: false,
          layers: "2,3",
          batch: 1,
          sequential: true,
          steps: null,
          cov: "general_text+facts",
          fluency: false,
          cacheStats: true,
          swea: { ...settings, values: { ...settings.values, v_num_grad_steps: 3 } },
        },
        { nLayer: 6, hasDataset: true, imported: null, corpus: null, methods: ["swea"] },
      );
      if (!("spec" in form)) throw new Error(form.error);
      // fewer integrated-gradients steps and one context template: this test is about the path
      const hparams = { ...form.spec.hparams, kn_steps: 4, context: { per_length: 1 } };
      const run: BatchRunSpec = { ...form.spec, texts: 5, hparams };
      const posts: FromWorker[] = [];
      lane(posts).lanes.batchEdit.submit({ type: "batchEdit", reqId: 30, run });
      const answer = await until(posts, 30, final);
      if (answer.type !== "batchEdit") throw new Error(JSON.stringify(answer));
      const app = answer.result;
      const cli = (await evalRun(
        engine,
        dataset,
        {
          counterfact: "0:2",
          method: "swea",
          batch: "1",
          sequential: true,
          "no-fluency": true,
          texts: "5",
          hparams: JSON.stringify({ ...hparams, v_num_grad_steps: 3 }),
        },
        () => {},
      )) as Record<string, unknown>;
      expect(app.method).toBe("swea");
      expect(app.curve.map((p) => p.edits)).toEqual([1, 2]);
      expect(app.curve).toEqual(cli.curve);
      expect(app.edited).toEqual(cli.edited);
      expect(app.cases).toEqual(cli.cases);
      expect(app.unedited).toEqual(cli.unedited);
      expect(app.stats).toEqual([]); // no C
      const learned = posts.flatMap((m) =>
        m.reqId === 30 && m.type === "progress" && "edits" in m && m.edits ? m.edits : [],
      );
      expect(learned.map((e) => e.kind)).toEqual(["swea", "swea"]);
    },
    // units: optimisation and attribution steps (3 + 4 per spelling, ≤ 2 spellings, 2 cases)
    // and cases scored (2 + 1 + 2, app and CLI)
    workLimit({ units: 40, perUnitMs: 2000, fixedMs: 20_000 }),
  );

  it("refuses bad settings and missing cases with specific errors", async () => {
    const posts: FromWorker[] = [];
    const edits = lane(posts);
    const bad: [Partial<BatchRunSpec> & Record<string, unknown>, RegExp][] = [
      [{ batch: 0 }, /batch/],
      [{ layers: [2, 1] }, /layers must be ascending/],
      [
        { cases: { from: "model", suite: "counterfact", start: 149, count: 5 } },
        /cases 149 to 153 do not exist: the dataset has 150/,
      ],
      [{ method: "bogus" }, /unknown editing method "bogus"/],
      [{ corpus: [] }, /corpus must be 1 to/],
    ];
    for (const [i, [patch, msg]] of bad.entries()) {
      const reqId = 10 + i;
      edits.lanes.batchEdit.submit({
        type: "batchEdit",
        reqId,
        run: { ...SPEC, ...patch } as BatchRunSpec,
      });
      const m = await until(posts, reqId, final);
      expect(m.type === "error" && m.message, JSON.stringify(patch)).toMatch(msg);
    }
  });
});
