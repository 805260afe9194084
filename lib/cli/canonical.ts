/**
 * `causeway canonical`: the canonical-examples evaluation (Hewitt et al. 2024; lib/edit/
 * canonical-suite.ts) — LoRA, full fine-tuning of the layer range, ROME and MEMIT at the same
 * deviation cap ε, learning rates chosen on validation facts (grids extended past a winning
 * edge), means ± per-fact standard errors on test facts and paired differences between methods:
 *
 *   causeway canonical --model tiny-facts [--methods lora,full,rome,memit] [--epsilon 1e-3]
 *     [--val 5] [--test 20] [--steps 20] [--layers 0,1] [--seed 0] [--backend wasm] --json
 *
 * `causeway forget` (the forgetting regulariser on the same facts) is lib/cli/forget.ts.
 */
import {
  CANONICAL_METHODS,
  type CanonicalMethod,
  type MethodSetting,
} from "../edit/canonical-methods";
import { runCanonicalSuite, type SuiteResult, settingText } from "../edit/canonical-suite";
import { choiceListFlag, parseFlags } from "./args";
import {
  COMMON_FLAGS,
  diffCell,
  f3,
  machine,
  SCORE_HEADER,
  scoreRow,
  suiteOptions,
  trainingText,
} from "./canonical-flags";
import type { Command } from "./command";
import { runOnEngine } from "./interp-run";

export { forgetCommand } from "./forget";

/** The starting grids chosen among on validation (extended past a winning edge). */
export const CANONICAL_GRIDS: Record<CanonicalMethod, MethodSetting[]> = {
  lora: [0.003, 0.01, 0.03].map((lr) => ({ method: "lora" as const, lr })),
  "lora+forget": [0.1, 1, 10, 100].map((lambda) => ({ method: "lora+forget" as const, lambda })),
  full: [3e-4, 1e-3, 3e-3].map((lr) => ({ method: "full" as const, lr })),
  rome: [{ method: "rome" }],
  memit: [{ method: "memit" }],
};

export const canonicalCommand: Command = {
  name: "canonical",
  usage:
    "causeway canonical --model M [--methods lora,full,rome,memit] [--epsilon 1e-3] [--val 5] [--test 20] [--steps 20] [--layers 0,1] [--texts 100] [--seed 0] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, { ...COMMON_FLAGS, methods: { type: "string" } });
    const methods = choiceListFlag(flags, "methods", CANONICAL_METHODS) ?? [
      "lora",
      "full",
      "rome",
      "memit",
    ];
    const o = suiteOptions(flags);
    return runOnEngine(flags, async (engine) => {
      const r = await runCanonicalSuite(engine.model, engine.tokenizer, {
        ...o,
        grids: methods.map((m) => CANONICAL_GRIDS[m]),
      });
      return { model: engine.info.name, machine: machine(), epsilon: o.epsilon, ...r };
    });
  },
  format(result) {
    const r = result as SuiteResult & { model: string; machine: string; epsilon: number };
    return [
      `${r.model}: ${r.cases.val} validation / ${r.cases.test} test facts, ${r.cases.ood_per_case} OOD contexts and ${r.cases.negatives_per_case.toFixed(1)} hard negatives per fact, ε ${r.epsilon}; ${r.machine}`,
      "mean ± per-fact standard error over the test facts",
      `| method (setting chosen on validation) ${SCORE_HEADER} | training | params |`,
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
      scoreRow("unedited", { spread: r.unedited_spread, mean: r.unedited }, ["–", "–"]),
      ...r.methods.map((m) =>
        scoreRow(
          `${m.method} (${settingText(m.chosen)}${m.at_edge ? ", grid edge" : ""})`,
          m.test,
          [trainingText(m.test), String(m.test.params)],
        ),
      ),
      "",
      "validation (mean OOD success, held-out success):",
      ...r.methods.flatMap((m) =>
        m.validation.map(
          (v) =>
            `  ${m.method} ${settingText(v.setting)}: ${f3(v.mean.ood)}, ${f3(v.mean.heldout)}; ${trainingText(v)}`,
        ),
      ),
      "",
      "paired differences on the test facts, a − b: mean [95% bootstrap interval]",
      "| a − b | held-out success | OOD success | hard-neg. ΔNLL |",
      "| --- | --- | --- | --- |",
      ...r.comparisons.map(
        (c) =>
          `| ${c.a} − ${c.b} | ${diffCell(c.heldout)} | ${diffCell(c.ood)} | ${diffCell(c.neg_dnll)} |`,
      ),
    ].join("\n");
  },
};
