/**
 * `causeway consistency`: the semantic-consistency recipe (arXiv 2501.11041) on a model and its
 * dataset.json — pairs of paraphrases labelled by the model's own answers, a probe per head on
 * the train relations, the top-K heads steered along the consistency direction, consistency and
 * accuracy before and after on the held-out relations (lib/edit/consistency-run.ts).
 *
 *   causeway consistency --model tiny-facts [--k 4] [--alpha 4] [--scale iti|raw]
 *     [--facts 40] [--seed 0] [--val-ratio 0.2] [--heldout P2,P4,P6,P8] [--backend wasm|cpu] --json
 *
 * Without --k or --alpha they are chosen on the train relations (a grid; docs/recipes.md).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { CONSISTENCY_PARAMS } from "../edit/consistency-params";
import { type ConsistencyRun, runConsistency } from "../edit/consistency-run";
import { paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { ENGINE_FLAGS, gridText, runOnEngine } from "./interp-run";
import { resolveModel } from "./model-source";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export const consistencyCommand: Command = {
  name: "consistency",
  usage:
    "causeway consistency --model M [--k K] [--alpha A] [--scale iti|raw] [--facts 40] [--seed 0] [--val-ratio 0.2] [--heldout R1,R2] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...ENGINE_FLAGS,
      k: { type: "string" },
      alpha: { type: "string" },
      scale: { type: "string" },
      facts: { type: "string" },
      seed: { type: "string" },
      "val-ratio": { type: "string" },
      heldout: { type: "string" },
    });
    const scale = flags.scale ?? "iti";
    if (scale !== "iti" && scale !== "raw") {
      throw new UsageError(`--scale must be iti or raw, got "${scale}"`);
    }
    const P = CONSISTENCY_PARAMS;
    const k = paramFlag(flags, "k", P.k);
    const alpha = paramFlag(flags, "alpha", P.alpha);
    const settings = {
      perRelation: paramFlag(flags, "facts", P.facts) ?? P.facts.default,
      seed: paramFlag(flags, "seed", P.seed) ?? 0,
      valRatio: paramFlag(flags, "val-ratio", P.valRatio) ?? 0.2,
      heldout:
        typeof flags.heldout === "string"
          ? flags.heldout.split(",").map((s) => s.trim())
          : undefined,
    };
    const { dir } = resolveModel(requireString(flags, "model"));
    let dataset: unknown;
    try {
      dataset = JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8"));
    } catch (err) {
      throw new UsageError(`${dir}/dataset.json: ${(err as Error).message.split("\n")[0]}`);
    }
    return runOnEngine(flags, async (engine) => {
      const r = await runConsistency(engine.model, engine.tokenizer, dataset, {
        k,
        alpha,
        scale,
        settings,
      });
      return { model: engine.info.name, ...r };
    });
  },
  format(result) {
    const r = result as ConsistencyRun;
    const line = (name: string, s: ConsistencyRun["before"]["train"]) =>
      `  ${name.padEnd(9)} consistency ${pct(s.consistency)}  accuracy ${pct(s.accuracy)}  (${s.pairs} pairs)`;
    return [
      `train relations ${r.relations.train.join(", ")}; held-out ${r.relations.heldout.join(", ")}`,
      `pairs ${r.pairs.all} (${r.pairs.consistent} consistent), balanced ${r.pairs.balanced} in ${r.pairs.strata} template pairs; format-only probe ${pct(r.probe.format_accuracy)}`,
      "probe accuracy on held-out facts (layer × head):",
      ...gridText(r.probe.accuracy, (l) => `  L${l}`),
      `K ${r.k}, α ${r.alpha} (${r.scale}; ${r.chosen_by}): heads ${r.edit.site.heads?.map((h) => `L${h.layer}H${h.head}`).join(" ")}`,
      "before:",
      line("train", r.before.train),
      line("held-out", r.before.heldout),
      "after:",
      line("train", r.after.train),
      line("held-out", r.after.heldout),
    ].join("\n");
  },
};
