/**
 * The ABSC recipe in the app equals the CLI for the same seed: the form's request
 * (components/edit-forms/absc-recipe.ts) run by the worker's `absc` lane (workers/absc-job.ts)
 * on the bundled model, its answers reduced by the store (lib/store/absc-slice.ts), against
 * `causeway absc --json` run as a user would, cell for cell of the printed table. The edits a
 * row offers for the stack score what the row says when applied. Tiny settings (8 reviews,
 * 2 steps, 10 test reviews per split) bound the work. Also: bad settings, too many training
 * reviews, a layer outside the model and a model without ABSC data give specific errors; a
 * cancel keeps the rows already answered; no tensors are left behind.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abscRequest, initialAbscDraft } from "../components/edit-forms/absc-recipe";
import { type AbscReport, abscCommand } from "../lib/cli/absc";
import { abscKnownFacts, abscSplits } from "../lib/edit/absc-data";
import { type AbscRow, abscCells, abscPercent } from "../lib/edit/absc-request";
import { ABSC_DEFAULTS } from "../lib/edit/absc-train";
import { applyEdits, viewOf } from "../lib/edit/apply";
import { type EditDataset, parseEditDataset } from "../lib/edit/dataset";
import { labelAccuracy } from "../lib/edit/loreft";
import { describeEdit } from "../lib/edit/types";
import type { LoraEdit } from "../lib/edit/types-trained";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { IDLE_ABSC, reduceAbsc } from "../lib/store/absc-slice";
import { abscLane } from "../workers/absc-job";
import { RunLane, SideJobs } from "../workers/jobs";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const DATASET = parseEditDataset(
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
);
const DRAFT = {
  ...initialAbscDraft(),
  methods: ["loreft" as const, "joint" as const], // sent in the CLI's order
  layers: "2",
  rank: 2,
  nTrain: 8,
  nTest: 10,
  steps: 2,
  seed: 3,
};

let engine: Engine;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine?.dispose());

/** The lane with a fake post; `dataset` undefined: a model without dataset.json. */
function harness(o: { dataset: EditDataset | undefined } = { dataset: DATASET }) {
  const messages: FromWorker[] = [];
  const side = new SideJobs();
  const waiters: { reqId: number; resolve: () => void }[] = [];
  let onMessage: (m: FromWorker) => void = () => {};
  const lane = abscLane({
    post: (m) => {
      const copy = structuredClone(m);
      messages.push(copy);
      onMessage(copy);
      if (copy.type === "done" || copy.type === "error") {
        for (const w of waiters.filter((x) => x.reqId === copy.reqId)) w.resolve();
      }
    },
    engine: async () => engine,
    dataset: async () => o.dataset,
    track: (p) => side.track(p),
  });
  const finished = (reqId: number) =>
    new Promise<void>((resolve) => waiters.push({ reqId, resolve }));
  const watch = (f: (m: FromWorker) => void) => {
    onMessage = f;
  };
  return { lane, messages, finished, watch };
}

describe("ABSC: app = CLI", () => {
  it(
    "the worker's rows, through the store, equal causeway absc --json cell for cell",
    async () => {
      const r = abscRequest(DRAFT, engine.model.config.nLayer);
      if (!("request" in r)) throw new Error(r.error);
      expect(r.request.methods).toEqual(["joint", "loreft"]);
      const before = tf.memory().numTensors;
      const h = harness();
      h.lane.submit({ type: "absc", reqId: 1, request: r.request });
      await h.finished(1);
      expect(tf.memory().numTensors).toBe(before);
      const state = h.messages.reduce(reduceAbsc, { ...IDLE_ABSC, status: "running" as const });
      expect(state.error).toBeNull();
      expect(state.status).toBe("ok");
      // progress per method and step (step 0 = before any update … 2 = after the last)
      const steps = h.messages.flatMap((m) =>
        m.type === "progress" && "method" in m ? [`${m.method}:${m.done}/${m.total}`] : [],
      );
      expect(steps).toEqual([
        "joint:0/2",
        "joint:1/2",
        "joint:2/2",
        "loreft:0/2",
        "loreft:1/2",
        "loreft:2/2",
      ]);

      const cli = await runCli([
        "absc",
        "--methods",
        "joint,loreft",
        "--layers",
        "2",
        "--rank",
        "2",
        "--n-train",
        "8",
        "--n-test",
        "10",
        "--steps",
        "2",
        "--seed",
        "3",
        "--backend",
        "wasm",
        "--quiet",
        "--json",
      ]);
      expect(cli.stderr).toBe("");
      expect(cli.code).toBe(0);
      const out = JSON.parse(cli.stdout) as AbscReport;
      expect(out.params).toEqual({
        ...ABSC_DEFAULTS,
        layers: [2],
        rank: 2,
        n_train: 8,
        n_test: 10,
        steps: 2,
        seed: 3,
      });
      expect(state.rows.map((x) => x.method)).toEqual(["joint", "loreft"]);
      for (const [i, app] of state.rows.entries()) {
        const c = out.methods[i];
        expect(app.layers).toEqual(c.layers);
        expect(app.params).toBe(c.params);
        expect(app.splits).toEqual(c.splits);
        app.losses.forEach((l, k) => {
          expect(l.loss).toBeCloseTo(c.losses[k].loss, 6);
        });
        // the form's cells are the printed table's
        const cells = abscCells(app);
        const line = abscCommand.format!(out)
          .split("\n")
          .find((x) => x.startsWith(`${c.method} `));
        expect(line?.split(/ {2,}/)).toEqual([
          cells.method,
          cells.layers,
          cells.params,
          cells.loss,
          ...cells.splits,
        ]);
      }
      // what the rows hold is measured: two splits of 10 reviews, joint = LoReFT + LoRA params
      const [joint, loreft] = state.rows;
      expect(joint.splits.map((s) => [s.name, s.domain, s.n])).toEqual([
        ["in_domain", "restaurant", 10],
        ["out_of_domain", "hotel", 10],
      ]);
      const { dModel: D } = engine.model.config;
      expect(loreft.params).toBe(2 * 2 * D + 2);
      expect(joint.params).toBeGreaterThan(loreft.params);
    },
    workLimit({ units: 4, perUnitMs: 60_000, fixedMs: 60_000 }),
  );

  it(
    "a row's edits, applied to the model, score the row's after-accuracy; cancel keeps earlier rows",
    async () => {
      const r = abscRequest({ ...DRAFT, methods: ["joint", "ft_layer"] }, 6);
      if (!("request" in r)) throw new Error(r.error);
      const before = tf.memory().numTensors;
      const h = harness();
      // cancel as soon as the first row is in: the second method stops at its next step
      h.watch((m) => {
        if (m.type === "absc") h.lane.cancel(7);
      });
      h.lane.submit({ type: "absc", reqId: 7, request: r.request });
      await h.lane.idle();
      expect(tf.memory().numTensors).toBe(before);
      const state = h.messages.reduce(reduceAbsc, { ...IDLE_ABSC, status: "running" as const });
      expect(state.rows.map((x) => x.method)).toEqual(["joint"]);
      expect(h.messages.some((m) => m.type === "error")).toBe(false);

      const row = state.rows[0] as AbscRow;
      if (!("edits" in row.apply)) throw new Error(row.apply.reason);
      expect(row.apply.edits.map((e) => e.kind)).toEqual(["loreft", "lora"]);
      // the stack's row says what the LoRA half is and what the row scored, not its example review
      const lora = row.apply.edits[1] as LoraEdit;
      const desc = describeEdit(lora);
      expect(desc).toContain(
        "lora attn.c_proj L2-2 r=2: ABSC joint (LoReFT + LoRA), 8 reviews × 2 steps, lr 0.01: in domain",
      );
      for (const s of row.splits)
        expect(desc).toContain(`${abscPercent(s.before)} → ${abscPercent(s.after)}`);
      expect(desc).not.toContain(lora.params.prefix);
      const splits = abscSplits(DATASET);
      const edited = applyEdits(engine.model, row.apply.edits);
      try {
        for (const [i, t] of splits.tests.entries()) {
          const acc = await labelAccuracy(
            (len) => viewOf(edited, len),
            engine.tokenizer,
            t.reviews.slice(0, 10),
            splits.labels,
          );
          expect(acc).toBe(row.splits[i].after);
        }
      } finally {
        edited.dispose();
      }
    },
    workLimit({ units: 2, perUnitMs: 60_000, fixedMs: 30_000 }),
  );

  it("bad input gets specific errors, in the form and from the worker", async () => {
    expect(abscRequest({ ...DRAFT, layers: "9" }, 6)).toEqual({
      error: "Layers must be distinct layers from 0 to 5",
    });
    expect(abscRequest({ ...DRAFT, layers: "two" }, 6)).toMatchObject({
      error: expect.stringMatching(/^Layers are whole numbers/),
    });
    expect(abscRequest({ ...DRAFT, methods: [] }, 6)).toMatchObject({
      error: expect.stringMatching(/^Choose one or more methods/),
    });
    expect(abscRequest({ ...DRAFT, lr: 0 }, 6)).toEqual({
      error: "The learning rate must be a number above 0, at most 10.",
    });
    expect(abscRequest({ ...DRAFT, steps: null }, 6)).toEqual({
      error: "Steps must be a whole number from 0 to 1000.",
    });

    const h = harness();
    const ask = async (reqId: number, request: unknown, g = h) => {
      g.lane.submit({ type: "absc", reqId, request } as never);
      await g.finished(reqId);
      return g.messages.find((m) => m.reqId === reqId && m.type === "error");
    };
    const ok = abscRequest(DRAFT, 6) as { request: object };
    // more training reviews than the train split has: refused before any training step
    expect(await ask(2, { ...ok.request, n_train: 601 })).toEqual({
      type: "error",
      reqId: 2,
      code: "bad_edit",
      message: "n_train must be 1 to 600 (the restaurant train split)",
    });
    expect(h.messages.some((m) => m.reqId === 2 && m.type === "progress")).toBe(false);
    expect(await ask(3, { ...ok.request, layers: [6] })).toMatchObject({
      code: "bad_request",
      message: "Layers must be distinct layers from 0 to 5",
    });
    expect(await ask(4, { mode: "train", methods: ["sgd"] })).toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/^Choose one or more methods of joint, loreft/),
    });
    // a dataset.json without absc_domains / absc, and a model without dataset.json
    const { absc_domains: _d, absc: _a, ...rest } = DATASET as Record<string, unknown>;
    expect(await ask(5, ok.request, harness({ dataset: rest as EditDataset }))).toMatchObject({
      code: "bad_dataset",
      message: expect.stringMatching(/needs the model's dataset.json absc_domains/),
    });
    expect(await ask(6, ok.request, harness({ dataset: undefined }))).toMatchObject({
      code: "no_dataset",
    });
  });

  it(
    "Locate: the review facts, traced as the Dataset panel sends them, equal causeway absc --locate",
    async () => {
      const h = harness();
      h.lane.submit({ type: "absc", reqId: 8, request: { mode: "facts" } });
      await h.finished(8);
      const answer = h.messages.find((m) => m.type === "abscFacts");
      if (answer?.type !== "abscFacts") throw new Error("no abscFacts answer");
      expect(answer.domain).toBe("restaurant");
      expect(answer.facts).toEqual(abscKnownFacts(abscSplits(DATASET).tests[0].reviews));
      expect(answer.labels).toEqual(abscSplits(DATASET).labels);

      // the job lib/store/absc-slice.ts starts (the Dataset panel's settings, here 2 facts, 1
      // sample; traced when right among the labels: test/absc-store.test.ts)
      const runs: FromWorker[] = [];
      let resolve = () => {};
      const done = new Promise<void>((r) => {
        resolve = r;
      });
      const lane = new RunLane({
        post: (m) => {
          runs.push(structuredClone(m));
          if (m.type === "done" || m.type === "error") resolve();
        },
        engine: async () => engine,
        quiet: async () => {},
      });
      lane.submit({
        type: "run",
        reqId: 9,
        job: {
          type: "dataset",
          kinds: ["hidden", "mlp", "attn"],
          samples: 1,
          limit: 2,
          facts: answer.facts,
          answerAmong: answer.labels,
        },
      });
      await done;
      const app = runs.find((m) => m.type === "dataset");
      if (app?.type !== "dataset") throw new Error(JSON.stringify(runs.at(-1)));

      const cli = await runCli([
        "absc",
        "--locate",
        "--limit",
        "2",
        "--samples",
        "1",
        "--backend",
        "wasm",
        "--json",
      ]);
      expect(cli.code).toBe(0);
      const out = JSON.parse(cli.stdout) as typeof app.result & { model: string; domain: string };
      expect(out.n_used).toBeGreaterThan(0); // something was traced, not a set of skips
      expect(out.answer_among).toEqual(answer.labels); // ABSC accuracy's rule picked them
      // as JSON carries it (NaN of an empty group → null), less the time taken
      const strip = ({ ms: _m, ...r }: typeof app.result) => JSON.parse(JSON.stringify(r));
      const { model: _model, domain: _domain, ...cliResult } = out;
      expect(strip(app.result)).toEqual(strip(cliResult));
    },
    workLimit({ units: 2, perUnitMs: 60_000, fixedMs: 30_000 }),
  );
});
