/**
 * The semantic-consistency recipe in the app equals the CLI for the same seed: the worker's
 * `consistency` lane (workers/consistency-job.ts) on the bundled model, its answer reduced by
 * the store (lib/store/consistency-slice.ts) and turned into the head form's rows
 * (components/edit-forms/consistency-view.ts), against `causeway consistency --json` run as a
 * user would. Small settings (14 facts per relation, K and α given) bound the work. Also: a bad
 * setting and a model without dataset.json give coded errors, and no tensors are left behind.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consistencyRows } from "../components/edit-forms/consistency-view";
import type { ConsistencyRun } from "../lib/edit/consistency-run";
import { parseEditDataset } from "../lib/edit/dataset";
import type { Engine } from "../lib/engine";
import { selectBackend } from "../lib/model/backend";
import type { FromWorker } from "../lib/protocol";
import { IDLE_CONSISTENCY, reduceConsistency } from "../lib/store/consistency-slice";
import { consistencyLane } from "../workers/consistency-job";
import { SideJobs } from "../workers/jobs";
import { runCli } from "./helpers/run-cli";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

/** 14 facts leave the probes 12 balanced pairs to score on with this seed (10 leave none). */
const SETTINGS = { k: 2, alpha: 2, seed: 1, facts: 14 };
/** A run of the recipe (app or CLI) took ~25 s CPU under load; 300 s each only catches a hang. */
const LIMIT = workLimit({ units: 3, perUnitMs: 300_000 });

let engine: Engine;
beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await loadEngine(BUNDLED_DIR);
});
afterAll(() => engine?.dispose());

function harness(withDataset = true) {
  const messages: FromWorker[] = [];
  const side = new SideJobs();
  const waiters: { reqId: number; resolve: () => void }[] = [];
  const dataset = parseEditDataset(
    JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
  );
  const lane = consistencyLane({
    post: (m) => {
      const copy = structuredClone(m);
      messages.push(copy);
      if (copy.type === "done" || copy.type === "error") {
        for (const w of waiters.filter((x) => x.reqId === copy.reqId)) w.resolve();
      }
    },
    engine: async () => engine,
    dataset: async () => (withDataset ? dataset : undefined),
    track: (p) => side.track(p),
  });
  const finished = (reqId: number) =>
    new Promise<void>((resolve) => waiters.push({ reqId, resolve }));
  return { lane, messages, finished };
}

describe("consistency: app = CLI", () => {
  it(
    "the worker's run, through the store and the form's rows, equals causeway consistency --json",
    async () => {
      const before = tf.memory().numTensors;
      const h = harness();
      h.lane.submit({ type: "consistency", reqId: 1, request: SETTINGS });
      await h.finished(1);
      expect(tf.memory().numTensors).toBe(before);
      const state = h.messages.reduce(reduceConsistency, {
        ...IDLE_CONSISTENCY,
        status: "running" as const,
      });
      expect(state.error).toBeNull();
      // progress: locating, then measuring (K and α given: no sweep), then the answer
      const phases = h.messages.flatMap((m) => (m.type === "progress" ? [m.phase] : []));
      expect(phases).toEqual(["locate", "measure"]);
      expect(state.progress).toBeNull();
      expect(state.status).toBe("ok");
      const app = state.run as ConsistencyRun;

      const cli = await runCli([
        "consistency",
        "--model",
        "tiny-facts",
        ...Object.entries(SETTINGS).flatMap(([k, v]) => [`--${k}`, String(v)]),
        "--json",
      ]);
      expect(cli.stderr).toBe("");
      expect(cli.code).toBe(0);
      const out = JSON.parse(cli.stdout) as ConsistencyRun;

      expect(consistencyRows(app)).toEqual(consistencyRows(out));
      expect(app.probe.accuracy).toEqual(out.probe.accuracy);
      expect(app.edit.site).toEqual(out.edit.site);
      expect(app.pairs).toEqual(out.pairs);
      // what the rows hold is the run's own measure, not a constant
      const rows = consistencyRows(app);
      expect(rows.map((r) => r.split)).toEqual(["train", "held-out"]);
      expect(rows[0].pairs).toBeGreaterThan(0);
      expect(app.k).toBe(2);
      expect(app.alpha).toBe(2);
      expect(app.edit.learned?.heads).toHaveLength(2);
      expect(app.probe.accuracy.flat().every((a) => a >= 0 && a <= 1)).toBe(true);
    },
    LIMIT,
  );

  it("refuses a bad setting and a model without dataset.json with coded errors", async () => {
    const h = harness(false);
    // one at a time: the lane answers only its latest request
    h.lane.submit({ type: "consistency", reqId: 2, request: { k: 0 } });
    await h.finished(2);
    h.lane.submit({ type: "consistency", reqId: 3, request: { k: 2 } });
    await h.finished(3);
    // with the dataset but 2 facts per relation there are no pairs to score the probes
    const g = harness(true);
    g.lane.submit({ type: "consistency", reqId: 4, request: { facts: 2 } });
    await g.finished(4);
    expect(g.messages.find((m) => m.type === "error")).toMatchObject({
      code: "bad_dataset",
      message: expect.stringMatching(/too few balanced paraphrase pairs/),
    });
    // K past the model's 6 × 4 heads is refused before any work
    g.lane.submit({ type: "consistency", reqId: 5, request: { k: 25 } });
    await g.finished(5);
    expect(g.messages.find((m) => m.reqId === 5 && m.type === "error")).toMatchObject({
      code: "bad_edit",
      message: "K must be a whole number from 1 to 24, got 25",
    });
    expect(g.messages.some((m) => m.reqId === 5 && m.type === "progress")).toBe(false);
    const err = (id: number) => h.messages.find((m) => m.reqId === id && m.type === "error");
    expect(err(2)).toMatchObject({
      code: "bad_request",
      message: expect.stringMatching(/^K must be/),
    });
    expect(err(3)).toMatchObject({ code: "no_dataset" });
  });
});
