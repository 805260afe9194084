/**
 * `causeway forget`: the forgetting regulariser (Song et al. 2025; lib/edit/forget.ts) on the
 * canonical evaluation's facts (lib/edit/forget-suite.ts) — λ chosen on validation facts at the
 * ε cap, then LoRA with λ = 0 and with the chosen λ on the test facts, with the cap off (the raw
 * forgetting after all steps) and at ε, from one training each:
 *
 *   causeway forget --model tiny-facts [--lambdas 0.1,1,10,100 | --lambda 1] [--lr 0.01]
 *     [--epsilon 1e-3] [--val 5] [--test 20] [--steps 20] --json
 */
import { type ForgetSuiteResult, runForgetSuite } from "../edit/forget-suite";
import { LORA_DEFAULTS } from "../edit/lora-site";
import { parseFlags, UsageError } from "./args";
import {
  COMMON_FLAGS,
  diffCell,
  f3,
  machine,
  posList,
  posNum,
  SCORE_HEADER,
  scoreRow,
  suiteOptions,
  trainingText,
} from "./canonical-flags";
import type { Command } from "./command";
import { runOnEngine } from "./interp-run";

/** λ·penalty / training loss at the kept step, mean over facts. */
const shareText = (share: number[] | undefined) =>
  share ? (share.reduce((a, b) => a + b, 0) / share.length).toExponential(2) : "–";

type ForgetRun = ForgetSuiteResult & { model: string; machine: string };

export const forgetCommand: Command = {
  name: "forget",
  usage:
    "causeway forget --model M [--lambdas 0.1,1,10,100 | --lambda L] [--lr 0.01] [--epsilon 1e-3] [--val 5] [--test 20] [--steps 20] [--layers 0,1] [--texts 100] [--seed 0] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      ...COMMON_FLAGS,
      lambda: { type: "string" },
      lambdas: { type: "string" },
      lr: { type: "string" },
    });
    if (flags.lambda !== undefined && flags.lambdas !== undefined)
      throw new UsageError("give --lambda (one value) or --lambdas (a grid), not both");
    const lambdas =
      flags.lambda !== undefined
        ? [posNum(flags, "lambda", 1)]
        : posList(flags, "lambdas", [0.1, 1, 10, 100]);
    const o = suiteOptions(flags, lambdas.length > 1 ? undefined : 0);
    const lr = posNum(flags, "lr", LORA_DEFAULTS.lr);
    return runOnEngine(flags, async (engine) => {
      const r = await runForgetSuite(engine.model, engine.tokenizer, { ...o, lambdas, lr });
      return { model: engine.info.name, machine: machine(), ...r };
    });
  },
  format(result) {
    const r = result as ForgetRun;
    return [
      `${r.model}: LoRA (lr ${r.lr}) with and without the forgetting regulariser; λ ${r.lambda}${r.validation.length > 0 ? ` chosen on ${r.cases.val} validation facts at ε ${r.epsilon}${r.at_edge ? " (grid edge)" : ""}` : " given"}; ${r.cases.test} test facts; ${r.machine}`,
      "mean ± per-fact standard error over the test facts",
      `| λ | cap ${SCORE_HEADER} | training | λ·penalty / loss at the kept step |`,
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...r.rows.map((x) =>
        scoreRow(`${x.lambda} | ${x.cap === "off" ? "off" : `ε ${x.cap}`}`, x.result, [
          trainingText(x.result),
          shareText(x.result.training?.penalty_share),
        ]),
      ),
      "",
      ...(r.validation.length > 0
        ? [
            `validation at ε ${r.epsilon} (mean OOD success, held-out success, loss ratio):`,
            ...r.validation.map(
              (v) =>
                `  λ ${v.setting.lambda ?? 0}: ${f3(v.mean.ood)}, ${f3(v.mean.heldout)}, ${v.mean.ratio.toFixed(6)}; ${trainingText(v)}`,
            ),
            "",
          ]
        : []),
      `chosen λ − λ 0 on the same test facts: mean [95% bootstrap interval]`,
      "| cap | held-out success | OOD success | hard-neg. ΔNLL | loss ratio |",
      "| --- | --- | --- | --- | --- |",
      ...r.effects.map(
        (e) =>
          `| ${e.cap === "off" ? "off" : `ε ${e.cap}`} | ${diffCell(e.heldout)} | ${diffCell(e.ood)} | ${diffCell(e.neg_dnll)} | ${diffCell(e.ratio, 6)} |`,
      ),
    ].join("\n");
  },
};
