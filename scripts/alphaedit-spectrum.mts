/**
 * The spectrum of C (E[k kᵀ] over the edit corpus, lib/edit/cov.ts) at MLP layers of a bundled
 * model, against AlphaEdit's null-space threshold: how many eigenvalues fall below it, what share
 * of tr C those directions carry, and what the threshold is relative to the spectrum (its mean
 * tr C / d_mlp and its largest value). AlphaEdit (experiments/evaluate.py get_project) keeps the
 * singular vectors of C with S < nullspace_threshold, an absolute 2e-2 for GPT-2 XL and Llama3-8B.
 *
 *   node --import tsx scripts/alphaedit-spectrum.mts [--model tiny-facts] [--layers 0,1]
 *        [--thresholds 2e-2,1e-2,…] [--corpus general_text+facts|general_text]
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadCliEngine } from "../lib/cli/engine";
import { secondMoment } from "../lib/edit/cov";
import { parseEditDataset } from "../lib/edit/dataset";
import { covTexts } from "../lib/edit/rome";
import { symEigen } from "../lib/edit/sym-eigen";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const model = arg("model", "tiny-facts");
const layers = arg("layers", "0,1").split(",").map(Number);
const thresholds = arg("thresholds", "2e-2,1e-2,5e-3,1e-3,1e-4").split(",").map(Number);
const corpusName = arg("corpus", "general_text+facts") as "general_text+facts" | "general_text";
const { engine } = await loadCliEngine(model);
const dir = path.join(import.meta.dirname, "../public/models", model);
const dataset = parseEditDataset(JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8")));
const corpus = covTexts(dataset, corpusName);
const out = [];
for (const layer of layers) {
  const { C, n, tokens } = await secondMoment(engine.model, engine.tokenizer, corpus, layer);
  const { values } = symEigen(C, n);
  const sorted = Float64Array.from(values).sort();
  const tr = sorted.reduce((a, b) => a + b, 0);
  const q = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))];
  out.push({
    layer,
    d_mlp: n,
    tokens,
    trace_over_d: tr / n,
    max: sorted[n - 1],
    quantiles: { p10: q(0.1), p25: q(0.25), p50: q(0.5), p75: q(0.75), p90: q(0.9) },
    below: thresholds.map((t) => {
      const small = sorted.filter((v) => v < t);
      return {
        threshold: t,
        relative_to_mean: t / (tr / n),
        null_dim: small.length,
        share_of_trace: small.reduce((a, b) => a + b, 0) / tr,
      };
    }),
  });
}
console.log(JSON.stringify({ model, corpus: corpusName, layers: out }, null, 1));
engine.dispose();
