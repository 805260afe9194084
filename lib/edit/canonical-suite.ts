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
import { chooseSetting } from "./canonical-grid";
import { type MethodOptions, type MethodSetting, methodEdit } from "./canonical-methods";
import { type PairedDiff, pairedDiff, type Spread, spread } from "./canonical-stats";
import type { Edit, LoraInfo } from "./types";

export interface CaseScore {
  heldout: number;
  ood: number;
  neg_accuracy: number;
  neg_dnll: number;
  ratio: number;
}

const METRICS = ["heldout", "ood", "neg_accuracy", "neg_dnll", "ratio"] as const;

/** The trained methods' trajectories, per case. */
export interface TrainingTrace {
  /** The step kept (the last within the cap) and the steps run. */
  kept: number[];
  steps: number;
  /** Cases where some state broke the cap (the budget was used up), of all. */
  bound: number;
  /** λ·penalty / training loss at the kept step (forgetting regulariser only). */
  penalty_share?: number[];
}

export interface SettingResult {
  setting: MethodSetting;
  /** Means over the cases. */
  mean: CaseScore;
  /** Each metric's mean with its per-case standard error. */
  spread: Record<keyof CaseScore, Spread>;
  cases: CaseScore[];
  params: number;
  /** ROME/MEMIT: the scales kept per case. */
  alphas: number[];
  training?: TrainingTrace;
}

export interface MethodResult {
  method: MethodSetting["method"];
  validation: SettingResult[];
  chosen: MethodSetting;
  /** The chosen value is still the grid's edge after every extension (lib/edit/canonical-grid.ts). */
  at_edge: boolean;
  test: SettingResult;
}

export interface SuiteOptions extends MethodOptions {
  threshold: number;
  /** The grid of each method (its settings); one setting means no choice. */
  grids: MethodSetting[][];
  cases: Partial<CaseOptions>;
  /** Extensions of a grid past a winning edge (default 2). */
  maxExtend?: number;
  onProgress?: (line: string) => void;
  /** Every setting's whole result as it finishes (a long run's partial record). */
  onResult?: (phase: "val" | "test", r: SettingResult) => void;
}

/** Two methods on the same test cases: mean paired differences a − b. */
export interface Comparison {
  a: string;
  b: string;
  heldout: PairedDiff;
  ood: PairedDiff;
  neg_dnll: PairedDiff;
}

export interface SuiteResult {
  cases: { val: number; test: number; ood_per_case: number; negatives_per_case: number };
  unedited: CaseScore;
  unedited_spread: Record<keyof CaseScore, Spread>;
  methods: MethodResult[];
  comparisons: Comparison[];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** log P(answer) of every hard negative of a case on a model (on the unedited one: ΔNLL's base). */
export const negativeLogProbs = (m: ModelLike, tok: TextTokenizer, c: CanonicalCase) =>
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

const meanScore = (xs: CaseScore[]): CaseScore =>
  Object.fromEntries(METRICS.map((k) => [k, mean(xs.map((x) => x[k]))])) as unknown as CaseScore;

const spreadOf = (xs: CaseScore[]) =>
  Object.fromEntries(METRICS.map((k) => [k, spread(xs.map((x) => x[k]))])) as Record<
    keyof CaseScore,
    Spread
  >;

/** Kept step, whether the cap bound, and the penalty's share of the loss at the kept step. */
function traceOf(infos: LoraInfo[]): TrainingTrace | undefined {
  if (infos.length === 0) return undefined;
  const at = (i: LoraInfo) => i.losses.find((l) => l.step === i.kept_step);
  const lambda = infos[0].forget?.lambda;
  return {
    kept: infos.map((i) => i.kept_step),
    steps: infos[0].losses.length - 1,
    bound: infos.filter((i) => i.losses.some((l) => l.ratio > 1 + i.epsilon)).length,
    ...(lambda !== undefined
      ? {
          penalty_share: infos.map((i) => {
            const l = at(i);
            return l?.penalty !== undefined && l.loss > 0 ? (lambda * l.penalty) / l.loss : 0;
          }),
        }
      : {}),
  };
}

/** One case's scores with `edit` applied to the model (freed afterwards). */
export async function scoreEdit(
  model: Gpt2Model,
  tok: TextTokenizer,
  c: CanonicalCase,
  edit: Edit,
  o: { threshold: number; ratio: number; before: number[] },
): Promise<CaseScore> {
  const m = applyEdits(model, [edit]);
  try {
    return await scoreCase(m, tok, c, o);
  } finally {
    m.dispose();
  }
}

/** A setting's result from its cases' scores (and the trained methods' infos). */
export function settingResult(o: {
  setting: MethodSetting;
  scores: CaseScore[];
  params: number;
  alphas: number[];
  infos: LoraInfo[];
}): SettingResult {
  const training = traceOf(o.infos);
  return {
    setting: o.setting,
    mean: meanScore(o.scores),
    spread: spreadOf(o.scores),
    cases: o.scores,
    params: o.params,
    alphas: o.alphas,
    ...(training ? { training } : {}),
  };
}

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
  const infos: LoraInfo[] = [];
  let params = 0;
  for (const c of cases) {
    await checkLearningCancelled(o.signal);
    const before = await negativeLogProbs(model, tok, c);
    const r = await methodEdit(model, tok, c, setting, o);
    const { threshold } = o;
    scores.push(await scoreEdit(model, tok, c, r.edit, { threshold, ratio: r.ratio, before }));
    alphas.push(r.alpha);
    if (r.edit.kind === "lora" && r.edit.learned?.info) infos.push(r.edit.learned.info);
    params = r.params;
  }
  return settingResult({ setting, scores, params, alphas, infos });
}

/** Higher OOD success, then held-out success, then the smaller hard-negative damage. */
export function better(a: SettingResult, b: SettingResult): boolean {
  if (a.mean.ood !== b.mean.ood) return a.mean.ood > b.mean.ood;
  if (a.mean.heldout !== b.mean.heldout) return a.mean.heldout > b.mean.heldout;
  return a.mean.neg_dnll < b.mean.neg_dnll;
}

/** A grid value as people write it (an extended grid's 0.09 rather than 0.09000000000000001). */
const num = (x: number) => String(Number(x.toPrecision(3)));

export const settingText = (s: MethodSetting) =>
  s.method === "lora+forget"
    ? `λ ${num(s.lambda ?? 0)}${s.lr !== undefined ? `, lr ${num(s.lr)}` : ""}`
    : s.lr !== undefined
      ? `lr ${num(s.lr)}`
      : "defaults";

/** Paired differences of every two methods' test scores (they edit the same cases). */
function compare(methods: readonly MethodResult[], seed: number): Comparison[] {
  const name = (m: MethodResult) => `${m.method} (${settingText(m.chosen)})`;
  const diff = (a: MethodResult, b: MethodResult, k: keyof CaseScore) =>
    pairedDiff(
      a.test.cases.map((c) => c[k]),
      b.test.cases.map((c) => c[k]),
      { seed },
    );
  return methods.flatMap((a, i) =>
    methods.slice(i + 1).map((b) => ({
      a: name(a),
      b: name(b),
      heldout: diff(a, b, "heldout"),
      ood: diff(a, b, "ood"),
      neg_dnll: diff(a, b, "neg_dnll"),
    })),
  );
}

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
    const { results, chosen, at_edge } = await chooseSetting({
      grid,
      score: async (s) => {
        const r = await runSetting(model, tok, val, s, o);
        o.onProgress?.(`val ${s.method} ${settingText(s)}: ood ${r.mean.ood.toFixed(3)}`);
        o.onResult?.("val", r);
        return r;
      },
      better,
      maxExtend: o.maxExtend ?? 2,
    });
    const t = await runSetting(model, tok, test, chosen, o);
    o.onProgress?.(`test ${chosen.method} ${settingText(chosen)}: ood ${t.mean.ood.toFixed(3)}`);
    o.onResult?.("test", t);
    methods.push({ method: chosen.method, validation: results, chosen, at_edge, test: t });
  }
  return {
    cases: {
      val: val.length,
      test: test.length,
      ood_per_case: test[0]?.ood.length ?? 0,
      negatives_per_case: mean(test.map((c) => c.negatives.length)),
    },
    unedited: meanScore(unedited),
    unedited_spread: spreadOf(unedited),
    methods,
    comparisons: compare(methods, o.seed),
  };
}
