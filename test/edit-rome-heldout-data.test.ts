/**
 * The fresh held-out CounterFact cases of the bundled model (data/tiny-facts-counterfact-150-249.json,
 * made by scripts/tiny-facts/extra_counterfact.py; docs/edits.md "ROME on cases nobody tuned on"):
 * the file loads as `--dataset` does, its cases are new (ids from 150, no subject of the 150
 * bundled cases), they follow the bundled cases' recipe (the relation's own phrasings and
 * objects), and the unedited model knows every true fact (efficacy 0) and keeps its neighbours
 * (neighbourhood 1), as on the bundled cases: on the first 10 cases, to stay within seconds (all
 * 100: efficacy 0, paraphrase 0.09, neighbourhood 1.00; docs/edits.md). Forward passes only.
 */
import "../lib/model/backends-node";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregateScores, caseScores, rewriteCase } from "../lib/edit/metrics";
import type { Engine } from "../lib/engine";
import { importDatasetJson } from "../lib/load/dataset-import";
import { selectBackend } from "../lib/model/backend";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const FILE = path.join(__dirname, "../data/tiny-facts-counterfact-150-249.json");
const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const N_SCORED = 10;
let engine: Engine;

const bundled = () =>
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")) as {
    counterfact: { requested_rewrite: { subject: string } }[];
    relations: { relation_id: string; objects: string[]; templates_train: string[] }[];
  };

describe("the fresh held-out CounterFact file", () => {
  const { format, data } = importDatasetJson(FILE, readFileSync(FILE, "utf8"));
  const cases = data.counterfact!;

  it("loads as ROME's counterfact.json with 100 new case ids and subjects", () => {
    expect(format).toBe("counterfact");
    expect(cases.map((c) => c.case_id)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
    const used = new Set(bundled().counterfact.map((c) => c.requested_rewrite.subject));
    for (const c of cases) expect(used.has(c.requested_rewrite.subject)).toBe(false);
  });

  it("follows the bundled recipe: the relation's phrasings and objects", () => {
    const rels = new Map(bundled().relations.map((r) => [r.relation_id, r]));
    for (const c of cases) {
      const r = c.requested_rewrite;
      const rel = rels.get(r.relation_id!)!;
      expect(rel.templates_train).toContain(r.prompt);
      expect(rel.objects).toContain(` ${r.target_new.str}`);
      expect(rel.objects).toContain(` ${r.target_true.str}`);
      expect(r.target_new.str).not.toBe(r.target_true.str);
      expect(c.paraphrase_prompts).toHaveLength(2);
      expect(c.neighborhood_prompts.length).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(!present)("the unedited model on the fresh held-out cases", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("scores efficacy 0 and neighbourhood 1", async () => {
    const { data } = importDatasetJson(FILE, readFileSync(FILE, "utf8"));
    const cases = data.counterfact!.slice(0, N_SCORED);
    const scores = [];
    for (const c of cases)
      scores.push(await caseScores(engine.model, engine.tokenizer, rewriteCase(c)));
    const a = aggregateScores(scores);
    console.log(`unedited, ${N_SCORED} fresh cases: ${JSON.stringify({ ...a, cases: undefined })}`);
    expect(a.efficacy).toBe(0);
    expect(a.neighborhood).toBeGreaterThanOrEqual(0.99);
  });
});
