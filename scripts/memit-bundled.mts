/**
 * MEMIT / AlphaEdit / BLUE on the bundled model's first N CounterFact cases as one batch: learns
 * the batch on the original model (lib/edit/batch-edit.ts applyBatchEdit, wasm) and prints
 * efficacy, paraphrase and neighbourhood (lib/edit/metrics.ts, ROME's definitions) with each
 * updated layer's residual and ‖ΔW‖ and each request's target probability. docs/edits.md
 * "MEMIT on the bundled model" lists its results.
 *
 *   npx tsx scripts/memit-bundled.mts <memit|alphaedit|rome> [blue|no] [N] [layers|""] [hparams JSON]
 *   npx tsx scripts/memit-bundled.mts memit no 10 "" '{"mom2_update_weight": 20000}'
 */
import "../lib/model/backends-node.ts";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { applyEdits } from "../lib/edit/apply.ts";
import { applyBatchEdit, type BatchMethod } from "../lib/edit/batch-edit.ts";
import { parseEditDataset } from "../lib/edit/dataset.ts";
import { aggregateScores, caseScores, rewriteCase } from "../lib/edit/metrics.ts";
import type { BatchEdit } from "../lib/edit/types.ts";
import { selectBackend } from "../lib/model/backend.ts";
import { BUNDLED_DIR, loadEngine } from "../test/interp-helpers.ts";

const [method = "memit", blueArg = "no", nArg = "10", layersArg = "", hpArg = "{}"] =
  process.argv.slice(2);
await selectBackend(["wasm"]);
const engine = await loadEngine(BUNDLED_DIR);
const dataset = parseEditDataset(
  JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
);
const cases = dataset.counterfact!.slice(0, Number(nArg));
const requests = cases.map((c) => ({
  prompt: c.requested_rewrite.prompt,
  subject: c.requested_rewrite.subject,
  target_new: c.requested_rewrite.target_new.str,
  target_true: c.requested_rewrite.target_true.str,
  case_id: c.case_id,
}));
const before = tf.memory().numTensors;
const t0 = Date.now();
const { edits } = await applyBatchEdit({
  model: engine.model,
  tok: engine.tokenizer,
  method: method as BatchMethod,
  blue: blueArg === "blue",
  requests,
  layers: layersArg ? layersArg.split(",").map(Number) : undefined,
  dataset,
  hparams: JSON.parse(hpArg),
});
const ms = Date.now() - t0;
const edited = applyEdits(engine.model, edits);
const scores = [];
for (const c of cases) scores.push(await caseScores(edited, engine.tokenizer, rewriteCase(c)));
edited.dispose();
const a = aggregateScores(scores);
const info = (edits[0] as BatchEdit).learned?.info;
console.log(
  JSON.stringify({
    method,
    blue: blueArg === "blue",
    n: cases.length,
    hparams: JSON.parse(hpArg),
    efficacy: a.efficacy,
    paraphrase: a.paraphrase,
    neighborhood: a.neighborhood,
    score: a.score,
    layers: info?.layers,
    p_new: info?.requests.map((r) => +r.p_new.toFixed(3)),
    ms,
    leaked_tensors: tf.memory().numTensors - before,
  }),
);
engine.dispose();
