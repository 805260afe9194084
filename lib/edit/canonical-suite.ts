/**
 * The canonical-examples evaluation (Hewitt et al. 2024; docs/recipes.md "Canonical examples"):
 * every method edits each case's ONE example within the deviation cap, and the edited model is
 * scored on the case's held-out phrasings, its out-of-distribution contexts and its hard
 * negatives (lib/edit/canonical-cases.ts). Hyper-parameters are chosen per method on the
 * validation cases (highest mean OOD success; ties: held-out success, then the smaller
 * hard-negative loss increase) and the chosen setting is reported on the test cases.
 *
 * Per case, with P the product over the suffix's tokens and threshold 0.2:
 *   heldout, ood     share of prompts with P(suffix) ≥ threshold after the edit
 *   neg_accuracy     share of hard negatives whose own answer stays more likely than the suffix
 *   neg_dnll         mean over hard negatives of −log P(answer) after − before (≥ 0: worse)
 *   ratio            general-text NLL ratio of the edited model (≤ 1 + ε by construction)
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, type ModelLike } from "./apply";
import { checkLearningCancelled } from "./cancel";
import { canonicalScore, pairLogProbs } from "./canonical";
import { type CanonicalCase, type CaseOptions, canonicalCases } from "./canonical-cases";
import { type MethodOptions, type MethodSetting, methodEdit } from "./canonical-methods";

export interface CaseScore {
  heldout: number;
  ood: number;
  neg_accuracy: number;
  neg_dnll: number;
  ratio: number;
}

export interface SettingResult {
  setting: MethodSetting;
  /** Means over the cases. */
  mean: CaseScore;
  cases: CaseScore[];
  params: number;
  /** ROME/MEMIT: the scales kept per case. */
  alphas: number[];
}

export interface MethodResult {
  method: MethodSetting["method"];
  validation: SettingResult[];
  chosen: MethodSetting;
  test: SettingResult;
}

export interface SuiteOptions extends MethodOptions {
  threshold: number;
  /** The grid of each method (its settings); one setting means no choice. */
  grids: MethodSetting[][];
  cases: Partial<CaseOptions>;
  onProgress?: (line: string) => void;
}

export interface SuiteResult {
  cases: { val: number; test: number; ood_per_case: number; negatives_per_case: number };
  unedited: CaseScore;
  methods: MethodResult[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** log P(answer) of every hard negative of a case on a model. */
const negativeLogProbs = (m: ModelLike, tok: TextTokenizer, c: CanonicalCase) =>
  pairLogProbs(
    m,
    tok,
    c.negatives.map((n) => ({ prompt: n.prompt, text: n.answer })),
  );

/** One case's scores on an (edited) model, against the unedited model's negatives. */
export async function scoreCase(
  m: ModelLike,
  tok: TextTokenizer,
  c: CanonicalCase,
  o: { threshold: number; ratio: number; before: number[] },
): Promise<CaseScore> {
  const task = (prompts: string[]) => ({ prompts, suffix: c.suffix, threshold: o.threshold });
  const heldout = (await canonicalScore(m, tok, task(c.heldout))).success_rate;
  const ood = (await canonicalScore(m, tok, task(c.ood))).success_rate;
  let neg_accuracy = 1;
  let neg_dnll = 0;
  if (c.negatives.length > 0) {
    const after = await negativeLogProbs(m, tok, c);
    const sfx = await pairLogProbs(
      m,
      tok,
      c.negatives.map((n) => ({ prompt: n.prompt, text: c.suffix })),
    );
    neg_accuracy = mean(after.map((a, i) => (a > sfx[i] ? 1 : 0)));
    neg_dnll = mean(after.map((a, i) => o.before[i] - a));
  }
  return { heldout, ood, neg_accuracy, neg_dnll, ratio: o.ratio };
}

const meanScore = (xs: CaseScore[]): CaseScore => ({
  heldout: mean(xs.map((x) => x.heldout)),
  ood: mean(xs.map((x) => x.ood)),
  neg_accuracy: mean(xs.map((x) => x.neg_accuracy)),
  neg_dnll: mean(xs.map((x) => x.neg_dnll)),
  ratio: mean(xs.map((x) => x.ratio)),
});

/** One setting of one method over a list of cases. */
export async function runSetting(
  model: Gpt2Model,
  tok: TextTokenizer,
  cases: readonly CanonicalCase[],
  setting: MethodSetting,
  o: SuiteOptions,
): Promise<SettingResult> {
  const scores: CaseScore[] = [];
  const alphas: number[] = [];
  let params = 0;
  for (const c of cases) {
    await checkLearningCancelled(o.signal);
    const before = await negativeLogProbs(model, tok, c);
    const r = await methodEdit(model, tok, c, setting, o);
    const m = applyEdits(model, [r.edit]);
    try {
      scores.push(await scoreCase(m, tok, c, { threshold: o.threshold, ratio: r.ratio, before }));
    } finally {
      m.dispose();
    }
    alphas.push(r.alpha);
    params = r.params;
  }
  return { setting, mean: meanScore(scores), cases: scores, params, alphas };
}

/** Higher OOD success, then held-out success, then the smaller hard-negative damage. */
function better(a: SettingResult, b: SettingResult): boolean {
  if (a.mean.ood !== b.mean.ood) return a.mean.ood > b.mean.ood;
  if (a.mean.heldout !== b.mean.heldout) return a.mean.heldout > b.mean.heldout;
  return a.mean.neg_dnll < b.mean.neg_dnll;
}

export const settingText = (s: MethodSetting) =>
  s.method === "lora+forget"
    ? `λ ${s.lambda}${s.lr !== undefined ? `, lr ${s.lr}` : ""}`
    : s.lr !== undefined
      ? `lr ${s.lr}`
      : "defaults";

/** The whole evaluation: cases, the unedited model's scores, and each method's choice and test. */
export async function runCanonicalSuite(
  model: Gpt2Model,
  tok: TextTokenizer,
  o: SuiteOptions,
): Promise<SuiteResult> {
  const { val, test } = canonicalCases(o.dataset, { capTexts: o.texts, ...o.cases });
  const unedited: CaseScore[] = [];
  for (const c of test) {
    const before = await negativeLogProbs(model, tok, c);
    unedited.push(await scoreCase(model, tok, c, { threshold: o.threshold, ratio: 1, before }));
  }
  const methods: MethodResult[] = [];
  for (const grid of o.grids) {
    const validation: SettingResult[] = [];
    if (grid.length > 1) {
      for (const s of grid) {
        const r = await runSetting(model, tok, val, s, o);
        o.onProgress?.(`val ${s.method} ${settingText(s)}: ood ${r.mean.ood.toFixed(3)}`);
        validation.push(r);
      }
    }
    const best = validation.reduce<SettingResult | null>(
      (acc, r) => (acc === null || better(r, acc) ? r : acc),
      null,
    );
    const chosen = best?.setting ?? grid[0];
    const t = await runSetting(model, tok, test, chosen, o);
    o.onProgress?.(`test ${chosen.method} ${settingText(chosen)}: ood ${t.mean.ood.toFixed(3)}`);
    methods.push({ method: chosen.method, validation, chosen, test: t });
  }
  return {
    cases: {
      val: val.length,
      test: test.length,
      ood_per_case: test[0]?.ood.length ?? 0,
      negatives_per_case: mean(test.map((c) => c.negatives.length)),
    },
    unedited: meanScore(unedited),
    methods,
  };
}
