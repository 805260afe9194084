/**
 * One evaluation of a ROME edit, two paths: the app's Measure (the worker's evalEdit request,
 * workers/edit-lane.ts) and `causeway edit --eval` (lib/cli/edit.ts) score the same edit on the
 * same CounterFact case (lib/edit/evaluate.ts romeEvalCase) and give identical numbers.
 *
 * The edit is CounterFact case 0 of the bundled dataset written out by hand (no case_id, no
 * paraphrase or neighbourhood prompts of its own): the case is found in dataset.json by subject,
 * prompt and new target. Before one function chose the case for both, the CLI scored such an
 * edit on its bare prompt (no paraphrase, no neighbourhood) while the app used the dataset's case.
 */
import "../lib/model/backends-node";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { editCommand } from "../lib/cli/edit";
import { parseEditDataset } from "../lib/edit/dataset";
import { learnStack } from "../lib/edit/learn";
import type { Edit, RomeEdit } from "../lib/edit/types";
import { Engine } from "../lib/engine";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import type { EditEvalResult, FromWorker } from "../lib/protocol";
import { EditLane } from "../workers/edit-lane";
import { SideJobs } from "../workers/jobs";
import { BUNDLED_DIR } from "./interp-helpers";

const dataset = parseEditDataset(
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
  "dataset.json",
);
const cf = dataset.counterfact![0];

/** Case 0 as a plain recipe: few steps, C = identity (the test is about scoring, not learning). */
const recipe: RomeEdit = {
  kind: "rome",
  site: { layer: 1 },
  params: {
    prompt: cf.requested_rewrite.prompt,
    subject: cf.requested_rewrite.subject,
    target_new: cf.requested_rewrite.target_new.str,
    target_true: cf.requested_rewrite.target_true.str,
    cov: "identity",
    steps: 4,
  },
};

let engine: Engine;
let learned: Edit;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  engine = await Engine.load(directorySource(BUNDLED_DIR), "tiny-facts");
  [learned] = (await learnStack(engine.model, engine.tokenizer, [recipe], { dataset })).edits;
});

afterAll(() => engine?.dispose());

/** The worker's Measure of edit 0 after setEdits applies [learned]. */
async function workerMeasure(): Promise<EditEvalResult> {
  const posts: FromWorker[] = [];
  const lane = new EditLane({
    post: (m) => posts.push(m),
    engine: async () => engine,
    dataset: async () => dataset,
    runsIdle: async () => {},
    side: new SideJobs(),
  });
  const answer = async (reqId: number) => {
    for (let i = 0; i < 6000; i++) {
      const m = posts.find((p) => p.reqId === reqId && p.type !== "progress" && p.type !== "done");
      if (m) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`request ${reqId} never answered`);
  };
  try {
    lane.submit({ type: "setEdits", reqId: 1, edits: [learned] });
    expect((await answer(1)).type).toBe("setEdits");
    lane.evaluate({ type: "evalEdit", reqId: 2, index: 0 });
    const m = await answer(2);
    if (m.type !== "evalEdit") throw new Error(JSON.stringify(m));
    return m.result;
  } finally {
    lane.reset();
  }
}

describe("edit evaluation: worker and CLI", () => {
  it("score the same ROME edit on the same case with identical numbers", async () => {
    const w = await workerMeasure();
    expect(w.source).toBe("counterfact");
    const dir = mkdtempSync(path.join(tmpdir(), "causeway-eval-"));
    const file = path.join(dir, "edits.json");
    writeFileSync(file, JSON.stringify({ version: 1, edits: [learned] }));
    const cli = (await editCommand.run([
      "--model",
      "tiny-facts",
      "--edit",
      file,
      "--eval",
      "--quiet",
      "--json",
    ])) as { eval: { counterfact: { edited: unknown; original: Record<string, unknown> } } };
    const { edited, original } = cli.eval.counterfact;
    // the dataset's case: paraphrase and neighbourhood scores exist on both paths
    expect(w.edited?.paraphrase).toEqual(expect.any(Number));
    expect(w.edited?.neighborhood).toEqual(expect.any(Number));
    expect(edited).toEqual(w.edited);
    const { cases: _, ...originalScores } = original;
    const { cases: __, ...workerOriginal } = w.original!;
    expect(originalScores).toEqual(workerOriginal);
  });
});
