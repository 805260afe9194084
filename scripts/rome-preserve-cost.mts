/**
 * Why ROME's `preserve` option raises the general-text loss (issue 14 item 5; docs/edits.md "ROME
 * on cases nobody tuned on"), without learning any edit: for each CounterFact case of the bundled
 * model, the keys ROME reads (k*, the bare prompt's update key k_u, the prompts' other keys) and
 * ρ(λ) = the mean square of what ΔW writes on C's corpus with preserve λ, relative to ROME's
 * (lib/edit/rome-preserve.ts; r = v* − out(k_u) cancels, so no δ is needed), with
 * cos(w, k_u) / cos(w₀, k_u) (how much of the update key is left along the direction), and the λ
 * that preserve_cost κ allows. Each case costs one forward pass and one step of δ (steps: 1).
 *
 *   nice -n 10 npx tsx scripts/rome-preserve-cost.mts 100:150 [--dataset FILE]
 */
import "../lib/model/backends-node.ts";
import { readFileSync } from "node:fs";
import { secondMoment, solveShrunk } from "../lib/edit/cov.ts";
import { dot, norm } from "../lib/edit/linalg.ts";
import { covTexts, defaultRomeLayer, romeParams } from "../lib/edit/rome.ts";
import { optimiseDelta, romeBatch } from "../lib/edit/rome-delta.ts";
import { preserver, solvePreserving } from "../lib/edit/rome-preserve.ts";
import { importDatasetJson } from "../lib/load/dataset-import.ts";
import { caseIds, openBundled } from "./bundled-cases.mts";

const args = process.argv.slice(2);
const at = args.indexOf("--dataset");
const file = at >= 0 ? args.splice(at, 2)[1] : undefined;
const [spec = "100:150"] = args;
const ids = caseIds(spec);
const { engine, dataset } = await openBundled();
const cases = file
  ? importDatasetJson(file, readFileSync(file, "utf8")).data.counterfact!
  : dataset.counterfact!;
const layer = defaultRomeLayer(engine.model.config);
const LAMBDAS = [1, 3, 10];
const KAPPAS = [2, 4];
for (const id of ids) {
  const c = cases.find((x) => x.case_id === id) ?? cases[id];
  const r = c.requested_rewrite;
  const p = romeParams({
    prompt: r.prompt,
    subject: r.subject,
    target_new: r.target_new.str,
    steps: 1,
  });
  if (p.cov === "identity") throw new Error("this script reads C");
  const mom = await secondMoment(engine.model, engine.tokenizer, covTexts(dataset, p.cov), layer);
  const solve = (k: Float64Array) => solveShrunk(mom, p.shrinkage, k);
  const batch = await romeBatch(engine.model, engine.tokenizer, p);
  let line: Record<string, unknown> = {};
  const direction = (k: { kStar: Float64Array; kBare: Float64Array; others: Float64Array[] }) => {
    const pr = preserver({ solve, kStar: k.kStar, others: k.others });
    const cos = (w: Float64Array) => dot(w, k.kBare) / (norm(w) * norm(k.kBare));
    const rho: Record<string, number> = {};
    const cosRatio: Record<string, number> = {};
    for (const l of LAMBDAS) {
      const w = pr.at(l);
      rho[l] = +pr.ratio(l, w, k.kBare).toPrecision(3);
      cosRatio[l] = +(cos(w) / cos(pr.Sk)).toFixed(3);
    }
    const allowed: Record<string, number> = {};
    for (const kappa of KAPPAS) {
      const d = solvePreserving({ solve, ...k, lambda: 10, cost: kappa, kUpdate: k.kBare });
      allowed[kappa] = +d.lambda.toPrecision(3);
    }
    line = {
      case: c.case_id,
      others: k.others.length,
      rho,
      cos_ratio: cosRatio,
      lambda_at_kappa: allowed,
    };
    return { w: pr.Sk, lambda: 0 };
  };
  await optimiseDelta({ model: engine.model, batch, layer, p, direction });
  console.log(JSON.stringify(line));
}
engine.dispose();
