/**
 * Attribution patching against exact head × position patching on the GPT-2-small shape (seeded
 * random weights, scripts/bench/random-gpt2.ts; the benchmark's random short prompt of 10 tokens
 * with its counterfactual, scripts/bench/prompts.ts), in one run: wall time of each, their ratio,
 * and Pearson's r between the two grids, for head_out_pos ([L][T][H]) and resid_pre ([L][T]).
 *
 *   nice -n 10 npx tsx scripts/bench/attrib.mts [--label short|long] [--backend wasm|cpu] [--repeat 3]
 *
 * Prints one JSON line. Timings depend on the machine and its load; r does not.
 */
import "../../lib/model/backends-node";
import { parseArgs } from "node:util";
import { attributionPatching, compareWithPatching } from "../../lib/interp/attribution";
import { selectBackend } from "../../lib/model/backend";
import { Gpt2Model } from "../../lib/model/gpt2";
import type { BackendName } from "../../lib/protocol";
import { type PromptLabel, randomPrompts } from "./prompts";
import { GPT2_SMALL, randomGpt2Weights } from "./random-gpt2";

const { values } = parseArgs({
  options: {
    label: { type: "string", default: "short" },
    backend: { type: "string", default: "wasm" },
    repeat: { type: "string", default: "3" },
  },
});
const { backend } = await selectBackend([values.backend as BackendName]);
const model = Gpt2Model.fromWeights(GPT2_SMALL, randomGpt2Weights(GPT2_SMALL, 1234).weights);
const [p] = await randomPrompts(model, 1234, [values.label as PromptLabel]);
const host = { model };
const spec = { clean: p.ids, corrupt: p.corruptIds, target: p.target, foil: p.foil };
// the estimate's best of --repeat runs (the first pays the kernels' warm-up); exact patching
// runs once: its thousands of evaluations amortise the warm-up
let estimate = await attributionPatching(host, spec);
const estimateMs = [estimate.ms];
for (let i = 1; i < Number(values.repeat); i++) {
  estimate = await attributionPatching(host, spec);
  estimateMs.push(estimate.ms);
}
const best = Math.min(...estimateMs);
const exact = await compareWithPatching(host, spec, estimate, ["head_out_pos", "resid_pre"]);
console.log(
  JSON.stringify({
    model: "GPT-2-small shape, random weights (seed 1234)",
    backend,
    tokens: p.ids.length,
    estimate_ms: estimateMs.map(Math.round),
    clean_logit_diff: estimate.clean_logit_diff,
    corrupt_logit_diff: estimate.corrupt_logit_diff,
    exact: exact.map((c) => ({
      site: c.site,
      ms: Math.round(c.ms),
      evaluations: c.evaluations,
      time_ratio: c.ms / best,
      correlation: c.correlation,
    })),
  }),
);
model.dispose();
