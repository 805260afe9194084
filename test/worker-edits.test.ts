/**
 * The worker's edit stack (workers/edit-lane.ts) with its sweep lane (workers/jobs.ts), in Node
 * on the wasm backend:
 * - a trace of the edited model through the run lane (variant "edited") equals a trace of a
 *   second model whose mlp.c_proj weight was really changed by ΔW = u vᵀ (≤ 1e-5), for the
 *   naive and the fast strategy; variant "original" equals the unedited model's trace;
 * - an intervention edit at the last position traces the same with fast (K/V prefixes reused,
 *   interventions at absolute positions) and naive passes;
 * - setEdits learns a ROME recipe (progress with the loss, then the complete stack), after which
 *   the edited prediction's top-1 is the new target and the original's is unchanged;
 * - a bad stack is refused with a specific error and the previous stack stays applied;
 * - evalEdit scores the edit; replacing and resetting the stack frees every tensor it held;
 * - learning stops at its next ROME / LoReFT / LoRA step once cancelled, freeing its tensors;
 *   a cancelled setEdits answers an error coded "cancelled" and the previous stack stays
 *   applied (same predictions).
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEditDataset } from "../lib/edit/dataset";
import { learnStack } from "../lib/edit/learn";
import { type Edit, EditError, type RomeEdit } from "../lib/edit/types";
import { Engine } from "../lib/engine";
import { runTrace } from "../lib/interp/trace";
import { gpt2Weights, loadModelFiles } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import {
  type FromWorker,
  isProgressOf,
  type ProgressOf,
  type RunJob,
  type ToWorker,
} from "../lib/protocol";

type LearnProgress = { type: "progress"; reqId: number } & ProgressOf<"setEdits">;

import { editedEngine } from "../lib/queries";
import { EditLane } from "../workers/edit-lane";
import { RunLane, SideJobs } from "../workers/jobs";
import { BUNDLED_DIR } from "./interp-helpers";

const PROMPT = "Ralkrok Stennos lives in the city of";
/**
 * ROME's context templates: 5 instead of 11, cached per setting so every recipe here shares
 * them. What is checked here is the lanes' part, not ROME's efficacy (test/edit-rome-bundled).
 */
const CONTEXT = { per_length: 2 };
const SUBJECT = "Ralkrok Stennos";
const LAYER = 1;

let engine: Engine;
/** The bundled model with ΔW = u vᵀ added to block LAYER's mlp.c_proj weight on the host. */
let changed: Engine;
let u: number[];
let v: number[];

/** Deterministic values in [-1, 1) (a small LCG: the test needs no particular distribution). */
function values(n: number, seed: number): number[] {
  let x = seed >>> 0;
  return Array.from({ length: n }, () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 31 - 1;
  });
}

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await Engine.load(directorySource(BUNDLED_DIR), "tiny-facts");
  const { dMlp, dModel } = engine.model.config as { dMlp?: number; dModel: number };
  const files = await loadModelFiles(directorySource(BUNDLED_DIR));
  const w = gpt2Weights(files).blocks[LAYER].mlpOut.w; // [M, D]
  const M = dMlp ?? w.shape[0];
  const raw = values(M, 11);
  const norm = Math.hypot(...raw);
  u = raw.map((x) => x / norm);
  v = values(dModel, 23).map((x) => 3 * x);
  const data = Float32Array.from(w.data);
  for (let i = 0; i < M; i++) for (let j = 0; j < dModel; j++) data[i * dModel + j] += u[i] * v[j];
  gpt2Weights(files).blocks[LAYER].mlpOut.w = { shape: w.shape, data };
  changed = Engine.fromModel(
    "changed",
    Gpt2Model.fromWeights(files.config, files.weights),
    files.tokenizer,
  );
});

afterAll(() => {
  engine?.dispose();
  changed?.dispose();
});

const dataset = parseEditDataset(
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
);

function harness() {
  const messages: FromWorker[] = [];
  const side = new SideJobs();
  const waiters: { reqId: number; types: string[]; resolve: () => void }[] = [];
  /** Called with every message as it is posted (e.g. to cancel at a given step). */
  const taps: ((m: FromWorker) => void)[] = [];
  const post = (m: FromWorker, transfer?: Transferable[]) => {
    const copy = structuredClone(m, { transfer: (transfer ?? []) as ArrayBuffer[] });
    messages.push(copy);
    for (const tap of taps) tap(copy);
    for (const w of waiters.filter((w) => w.reqId === copy.reqId && w.types.includes(copy.type)))
      w.resolve();
  };
  let edits: EditLane | null = null;
  const runs = new RunLane({
    post,
    engine: async () => engine,
    quiet: () => side.quiet(),
    edited: (e, variant) => edits!.edited(e, variant),
    progressIntervalMs: 0,
  });
  edits = new EditLane({
    post,
    engine: async () => engine,
    dataset: async () => dataset,
    runsIdle: () => runs.idle(),
    side,
  });
  const lane = edits;
  let next = 1;
  const until = (reqId: number, types: string[]) =>
    new Promise<void>((resolve) => {
      if (messages.some((m) => m.reqId === reqId && types.includes(m.type))) resolve();
      else waiters.push({ reqId, types, resolve });
    });
  const setEdits = async (list: Edit[]) => {
    const reqId = next++;
    lane.submit({ type: "setEdits", reqId, edits: list } as Extract<
      ToWorker,
      { type: "setEdits" }
    >);
    await until(reqId, ["done", "error"]);
    return messages.filter((m) => m.reqId === reqId);
  };
  const run = async (job: RunJob, variant?: "original" | "edited") => {
    const reqId = next++;
    runs.submit({ type: "run", reqId, job, variant });
    await until(reqId, ["done", "error"]);
    return messages.filter((m) => m.reqId === reqId);
  };
  const evaluate = async (index: number) => {
    const reqId = next++;
    lane.evaluate({ type: "evalEdit", reqId, index });
    await until(reqId, ["done", "error"]);
    return messages.filter((m) => m.reqId === reqId);
  };
  return { lane, setEdits, run, evaluate, taps };
}

/** The trace grids of a run's rows messages: kind → t → values. */
function gridsOf(msgs: FromWorker[]): Map<string, Map<number, number[]>> {
  const out = new Map<string, Map<number, number[]>>();
  for (const m of msgs) {
    if (m.type !== "rows") continue;
    if (!out.has(m.kind)) out.set(m.kind, new Map());
    out.get(m.kind)!.set(m.rows[0], Array.from(m.values));
  }
  return out;
}

const romeLearned = (): RomeEdit => ({
  kind: "rome",
  id: "r1",
  site: { layer: LAYER },
  params: { prompt: "{} lives in the city of", subject: SUBJECT, target_new: "Halvek" },
  learned: { u, v },
});

function maxDiff(a: number[][], b: number[][]): number {
  let m = 0;
  for (const [t, row] of a.entries()) {
    for (const [l, x] of row.entries()) m = Math.max(m, Math.abs(x - b[t][l]));
  }
  return m;
}

describe("edited traces through the run lane", () => {
  for (const strategy of ["naive", "fast"] as const) {
    it(`${strategy}: the edited trace equals a trace of the model with ΔW in its weights (≤ 1e-5)`, async () => {
      const h = harness();
      const before = tf.memory().numTensors;
      const set = await h.setEdits([romeLearned()]);
      expect(set.find((m) => m.type === "setEdits")).toBeDefined();
      const spec = { prompt: PROMPT, subject: SUBJECT, samples: 3, strategy };
      const job: RunJob = { type: "trace", kinds: ["mlp", "hidden"], spec };
      const msgs = await h.run(job, "edited");
      const done = msgs.at(-1)!;
      expect(done.type).toBe("done");
      if (done.type === "done") expect(done.tensorsLeft).toBe(0);
      const grids = gridsOf(msgs);
      const unedited = new Map<string, number[][]>();
      for (const kind of ["mlp", "hidden"] as const) {
        const ref = await runTrace(changed, { ...spec, kind });
        const got = ref.scores.map((_, t) => grids.get(kind)!.get(t)!);
        const err = maxDiff(got, ref.scores);
        console.log(
          `${strategy} ${kind}: edited vs changed weights max |Δ| = ${err.toExponential(2)}`,
        );
        expect(err).toBeLessThan(1e-5);
        // and the edit matters: the original model's grid is not the same
        const orig = await runTrace(engine, { ...spec, kind });
        expect(maxDiff(orig.scores, ref.scores)).toBeGreaterThan(1e-3);
        unedited.set(kind, orig.scores);
      }
      // variant "original" ignores the stack: the unedited model's mlp grid from above
      const o = gridsOf(await h.run({ type: "trace", kinds: ["mlp"], spec }, "original"));
      const orig = unedited.get("mlp")!;
      expect(
        maxDiff(
          orig.map((_, t) => o.get("mlp")!.get(t)!),
          orig,
        ),
      ).toBeLessThan(1e-6);
      h.lane.reset();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("an intervention edit at the last position: fast and naive traces agree (≤ 1e-5)", async () => {
    const h = harness();
    const D = engine.model.config.dModel;
    const b = values(D, 5).map((x) => 4 * x);
    const norm = Math.hypot(...b);
    await h.setEdits([
      {
        kind: "resid_steer",
        site: { layer: 2, position: "last" },
        params: { alpha: 1, vector: b },
        learned: { direction: b.map((x) => x / norm), norm, sigma: 1 },
      },
    ]);
    const grid = async (strategy: "naive" | "fast") => {
      const spec = { prompt: PROMPT, subject: SUBJECT, samples: 2, strategy };
      const g = gridsOf(await h.run({ type: "trace", kinds: ["hidden"], spec }, "edited"));
      return [...g.get("hidden")!.entries()].sort((x, y) => x[0] - y[0]).map((e) => e[1]);
    };
    const naive = await grid("naive");
    const fast = await grid("fast");
    expect(maxDiff(fast, naive)).toBeLessThan(1e-5);
    const orig = await runTrace(engine, {
      prompt: PROMPT,
      subject: SUBJECT,
      samples: 2,
      kind: "hidden",
    });
    expect(maxDiff(naive, orig.scores)).toBeGreaterThan(1e-3);
    h.lane.reset();
  });
});

describe("setEdits", () => {
  it("learns a ROME recipe with streamed losses; the edited top-1 becomes the new target", async () => {
    const h = harness();
    const before = tf.memory().numTensors;
    const recipe: RomeEdit = {
      kind: "rome",
      id: "mine",
      site: { layer: 0 },
      params: {
        prompt: "{} lives in the city of",
        subject: SUBJECT,
        target_new: "Halvek",
        cov: "identity",
        context: CONTEXT,
      },
    };
    const msgs = await h.setEdits([recipe]);
    const steps = msgs.filter(
      (m): m is LearnProgress => isProgressOf(m, "setEdits") && m.loss !== undefined,
    );
    expect(steps.length).toBeGreaterThan(1);
    for (const s of steps) {
      expect(s.phase).toBe("learn");
      expect(s.index).toBe(0);
      expect(Number.isFinite(s.loss)).toBe(true);
      expect(s.pNew).toBeGreaterThan(0);
    }
    const first = steps[0];
    const last = steps.at(-1)!;
    expect(last.loss!).toBeLessThan(first.loss!);
    expect(last.pNew!).toBeGreaterThan(first.pNew!);
    const answer = msgs.find((m) => m.type === "setEdits");
    if (answer?.type !== "setEdits") throw new Error("no edits answer");
    const learned = answer.edits[0] as RomeEdit;
    expect(learned.id).toBe("mine");
    expect(learned.learned?.u).toHaveLength(engine.model.config.dModel * 4);
    expect(learned.learned?.v).toHaveLength(engine.model.config.dModel);

    const edited = h.lane.edited(engine, "edited")!;
    expect(edited).not.toBeNull();
    expect(h.lane.edited(engine, "original")).toBeNull();
    const after = await editedEngine(engine, edited, PROMPT).predict(PROMPT, 3);
    const orig = await engine.predict(PROMPT, 3);
    expect(after.top[0].token).toBe(" Halvek");
    expect(orig.top[0].token).toBe(" Parrow");

    // measures of the edit
    const ev = await h.evaluate(0);
    const res = ev.find((m) => m.type === "evalEdit");
    if (res?.type !== "evalEdit") throw new Error(JSON.stringify(ev.at(-1)));
    expect(res.result.edited?.efficacy).toBe(1);
    expect(res.result.original?.efficacy).toBe(0);
    expect(res.result.edited?.cases[0].p_new).toBeCloseTo(Math.exp(0) * after.top[0].prob, 1);
    expect(res.result.generalText?.ratio).toBeGreaterThan(0.9);
    expect(ev.some((m) => m.type === "progress")).toBe(true);

    // a learned stack is sent back as it is: nothing is relearned
    const again = await h.setEdits([learned]);
    expect(again.some((m) => m.type === "progress")).toBe(false);
    expect((again.find((m) => m.type === "setEdits") as { edits: Edit[] }).edits[0]).toEqual(
      learned,
    );

    // the empty stack frees the edited weights
    await h.setEdits([]);
    expect(h.lane.edited(engine, "edited")).toBeNull();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("refuses a bad stack with a specific error and keeps the applied one", async () => {
    const h = harness();
    await h.setEdits([romeLearned()]);
    const applied = h.lane.edited(engine, "edited");
    const bad = await h.setEdits([
      { kind: "head_scale", site: { layer: 99, head: 0 }, params: { scale: 0 } },
    ]);
    const err = bad.at(-1)!;
    expect(err.type).toBe("error");
    if (err.type === "error") {
      expect(err.code).toBe("bad_edit");
      expect(err.message).toMatch(/layer/);
    }
    expect(h.lane.edited(engine, "edited")).toBe(applied);
    const noSubject = await h.setEdits([
      {
        kind: "rome",
        site: { layer: 0 },
        params: { prompt: "lives in the city of", subject: SUBJECT, target_new: "Halvek" },
      },
    ]);
    const e2 = noSubject.at(-1)!;
    expect(e2.type).toBe("error");
    if (e2.type === "error") expect(e2.message).toMatch(/\{\}/);
    const ev = await h.evaluate(5);
    expect(ev.at(-1)!.type).toBe("error");
    h.lane.reset();
    expect(h.lane.edited(engine, "edited")).toBeNull();
  });
});

describe("cancelling a learning", () => {
  /** A ROME recipe whose 200 steps would take far longer than the test allows. */
  const longRecipe = (): RomeEdit => ({
    kind: "rome",
    id: "long",
    site: { layer: 0 },
    params: {
      prompt: "{} lives in the city of",
      subject: SUBJECT,
      target_new: "Halvek",
      cov: "identity",
      steps: 200,
      early_stop: 0,
      context: CONTEXT,
    },
  });

  it("learnStack stops at the next ROME step once its signal is set, freeing its tensors", async () => {
    const before = tf.memory().numTensors;
    const signal = { cancelled: false };
    const steps: number[] = [];
    const learning = learnStack(engine.model, engine.tokenizer, [longRecipe()], {
      dataset,
      signal,
      onRomeStep: (_i, s) => {
        steps.push(s.step);
        signal.cancelled = true;
      },
    });
    const err = await learning.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EditError);
    expect((err as EditError).code).toBe("cancelled");
    expect(steps).toEqual([0]);
    expect(tf.memory().numTensors).toBe(before);
  });

  // small held-out sets (300 reviews, 100 texts by default): they are scored before step 0
  const trained: [string, Edit][] = [
    ["LoReFT", { kind: "loreft", site: {}, params: { n_test: 1 } }],
    ["LoRA", { kind: "lora", site: {}, params: { prefix: PROMPT, suffix: " Halvek", texts: 2 } }],
  ];
  for (const [name, recipe] of trained) {
    it(`learnStack stops ${name} at the next training step once its signal is set`, async () => {
      const before = tf.memory().numTensors;
      const signal = { cancelled: false };
      const steps: number[] = [];
      const err = await learnStack(engine.model, engine.tokenizer, [recipe], {
        dataset,
        signal,
        onTrainStep: (_i, s) => {
          steps.push(s.step);
          signal.cancelled = true;
        },
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as EditError).code).toBe("cancelled");
      expect(steps).toEqual([0]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("a cancel after the first ROME step answers cancelled and keeps the applied stack", async () => {
    const h = harness();
    await h.setEdits([romeLearned()]);
    const applied = h.lane.edited(engine, "edited")!;
    expect(applied).not.toBeNull();
    const expected = await editedEngine(engine, applied, PROMPT).predict(PROMPT, 5);
    const before = tf.memory().numTensors;
    let cancelledAt = -1;
    h.taps.push((m) => {
      if (cancelledAt < 0 && isProgressOf(m, "setEdits") && m.loss !== undefined) {
        cancelledAt = m.done;
        expect(h.lane.cancel(m.reqId)).toBe(true);
      }
    });
    const msgs = await h.setEdits([romeLearned(), longRecipe()]);
    expect(cancelledAt).toBe(1);
    const answer = msgs.at(-1)!;
    expect(answer.type).toBe("error");
    if (answer.type === "error") expect(answer.code).toBe("cancelled");
    expect(msgs.some((m) => m.type === "setEdits" || m.type === "done")).toBe(false);
    expect(h.lane.edited(engine, "edited")).toBe(applied);
    expect(h.lane.stack()).toEqual([romeLearned()]);
    const after = await editedEngine(engine, applied, PROMPT).predict(PROMPT, 5);
    expect(after.top).toEqual(expected.top);
    expect(after.top[0].token).not.toBe(" Halvek");
    expect(tf.memory().numTensors).toBe(before);
    h.lane.reset();
  });
});

describe("probe grid and α curve", () => {
  it("probeHeads: a layer × head grid of accuracies; alphaCurve: one point per α", async () => {
    const posts: FromWorker[] = [];
    const side = new SideJobs();
    const lane = new EditLane({
      post: (m) => posts.push(m),
      engine: async () => engine,
      dataset: async () => dataset,
      runsIdle: async () => {},
      side,
    });
    const before = tf.memory().numTensors;
    lane.probe({
      type: "probeHeads",
      reqId: 1,
      positive: { dataset: "absc", label: " positive", limit: 20 },
      negative: { dataset: "absc", label: " negative", limit: 20 },
    });
    lane.curve({
      type: "alphaCurve",
      reqId: 2,
      edit: {
        kind: "resid_steer",
        site: { layer: 3 },
        params: {
          alpha: 1,
          positive: { dataset: "absc", label: " positive", limit: 20 },
          negative: { dataset: "absc", label: " negative", limit: 20 },
        },
      },
      alphas: [0, 4],
      eval: {
        prompts: { dataset: "absc", split: "test", limit: 20 },
        target: " positive",
        foil: " negative",
      },
    });
    lane.curve({
      type: "alphaCurve",
      reqId: 3,
      edit: { kind: "head_scale", site: { layer: 0, head: 0 }, params: { scale: 0 } },
      alphas: [1],
      eval: { prompts: ["a"], target: " x", foil: " y" },
    });
    await new Promise((r) => setTimeout(r, 0));
    await side.quiet();
    await new Promise((r) => setTimeout(r, 0));
    const probe = posts.find((m) => m.type === "probeHeads");
    if (probe?.type !== "probeHeads") throw new Error(JSON.stringify(posts));
    expect(probe.accuracy).toHaveLength(engine.model.config.nLayer);
    for (const row of probe.accuracy) {
      expect(row).toHaveLength(engine.model.config.nHead);
      for (const a of row) expect(a).toBeGreaterThanOrEqual(0);
    }
    expect(probe.nPositive).toBe(20);
    // the newest curve request (a head_scale edit) is refused; the older one is not posted
    const curveAnswers = posts.filter((m) => m.reqId === 2 || m.reqId === 3);
    expect(curveAnswers).toHaveLength(1);
    expect(curveAnswers[0]).toMatchObject({ type: "error", reqId: 3, code: "bad_request" });
    lane.curve({
      type: "alphaCurve",
      reqId: 4,
      edit: {
        kind: "resid_steer",
        site: { layer: 3 },
        params: {
          alpha: 1,
          positive: { dataset: "absc", label: " positive", limit: 20 },
          negative: { dataset: "absc", label: " negative", limit: 20 },
        },
      },
      alphas: [0, 4],
      eval: {
        prompts: { dataset: "absc", split: "test", limit: 20 },
        target: " positive",
        foil: " negative",
      },
    });
    await new Promise((r) => setTimeout(r, 0));
    await side.quiet();
    await new Promise((r) => setTimeout(r, 0));
    const curve = posts.find((m) => m.type === "alphaCurve");
    if (curve?.type !== "alphaCurve") throw new Error(JSON.stringify(posts.at(-1)));
    expect(curve.points.map((p) => p.alpha)).toEqual([0, 4]);
    expect(curve.points[0].n).toBe(20);
    // α = 0 changes nothing; steering toward " positive" raises its log-odds
    expect(curve.points[1].mean_logprob_diff).toBeGreaterThan(curve.points[0].mean_logprob_diff);
    expect(tf.memory().numTensors).toBe(before);
  });
});
