/**
 * Times the unedited model's CounterFact scoring on the bundled model (lib/edit/eval-run.ts
 * uneditedScores), with generation fluency or without, and prints the summary and the seconds:
 *
 *   node --import tsx scripts/time-edit-eval.mts [A:B] [--no-fluency] [--model tiny-facts]
 *
 * The same command before and after a change to the evaluation gives its speed-up; the summary
 * must not move.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadCliEngine } from "../lib/cli/engine";
import { parseEditDataset } from "../lib/edit/dataset";
import { suiteCases } from "../lib/edit/eval-cases";
import { editorFor } from "../lib/edit/eval-methods";
import { uneditedScores } from "../lib/edit/eval-run";

const args = process.argv.slice(2);
const range = args.find((a) => /^\d+:\d+$/.test(a)) ?? "50:70";
const modelAt = args.indexOf("--model");
const model = modelAt >= 0 ? args[modelAt + 1] : "tiny-facts";
const [a, b] = range.split(":").map(Number);
const { engine, backend } = await loadCliEngine(model);
const dir = path.join(import.meta.dirname, "../public/models", model);
const dataset = parseEditDataset(JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8")));
const cases = suiteCases(dataset, "counterfact").slice(a, b);
const t0 = performance.now();
const u = await uneditedScores({
  model: engine.model,
  tok: engine.tokenizer,
  cases,
  editor: editorFor("memit"),
  batch: 1,
  sequential: false,
  fluency: args.includes("--no-fluency") ? null : undefined,
});
const s = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ model, backend, cases: range, seconds: +s.toFixed(1), ...u.scores }));
engine.dispose();
