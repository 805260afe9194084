/**
 * The forgetting regulariser's experiment (docs/recipes.md "Forgetting regularisation"), on the
 * canonical evaluation's facts (lib/edit/canonical-cases.ts):
 *
 *   validation  LoRA with the regulariser at each λ of the grid, at the ε cap, on the validation
 *               facts; λ chosen as the canonical evaluation chooses (highest OOD success, then
 *               held-out success, then the smaller hard-negative damage), the grid extended past
 *               a winning edge (lib/edit/canonical-grid.ts)
 *   test        λ = 0 and the chosen λ on the test facts, each trained ONCE for all its steps:
 *               the final state is the cap-off result (the raw forgetting), the last state within
 *               (1 + ε)·original the capped one (lora.ts keptState: what training under the cap
 *               keeps), so both rows come from the same trajectory
 *   effects     chosen λ − λ 0 per test fact (paired), per cap, with bootstrap intervals
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { checkLearningCancelled } from "./cancel";
import { canonicalCases } from "./canonical-cases";
import { chooseSetting } from "./canonical-grid";
import { capTexts, type MethodSetting, methodEdit } from "./canonical-methods";
import { type PairedDiff, pairedDiff } from "./canonical-stats";
import {
  better,
  type CaseScore,
  negativeLogProbs,
  runSetting,
  type SettingResult,
  type SuiteOptions,
  scoreEdit,
  settingResult,
} from "./canonical-suite";
import { loraModulesOf } from "./family-sites";
import { computeImportance } from "./forget";
import { keptState, type LoraState } from "./lora";
import { LORA_DEFAULTS, loraWeight } from "./lora-site";
import { checkEdit } from "./plan";
import type { LoraEdit, LoraInfo } from "./types";

/** The cap "off": every state qualifies, so the final one is kept. */
export const NO_CAP = 1e6;

export interface ForgetSuiteOptions extends Omit<SuiteOptions, "grids"> {
  /** λ values chosen among on validation (one value: given, no validation run). */
  lambdas: number[];
  /** LoRA's learning rate. */
  lr: number;
}

export interface ForgetRow {
  lambda: number;
  cap: "off" | number;
  result: SettingResult;
}

/** Chosen λ − λ 0 on the same test facts. */
export interface ForgetEffect {
  cap: "off" | number;
  heldout: PairedDiff;
  ood: PairedDiff;
  neg_dnll: PairedDiff;
  ratio: PairedDiff;
}

export interface ForgetSuiteResult {
  cases: { val: number; test: number };
  lr: number;
  epsilon: number;
  /** At the ε cap, the grid's settings (empty when λ was given). */
  validation: SettingResult[];
  lambda: number;
  at_edge: boolean;
  rows: ForgetRow[];
  effects: ForgetEffect[];
}

const settingOf = (lambda: number, lr: number): MethodSetting =>
  lambda > 0 ? { method: "lora+forget", lambda, lr } : { method: "lora", lr };

/** The capped edit from a cap-off training's states: the state kept under ε, as lora.ts keeps it. */
export function cappedEdit(e: LoraEdit, states: readonly LoraState[], epsilon: number) {
  const k = keptState(states, epsilon);
  const info = e.learned?.info as LoraInfo;
  const capped: LoraEdit = {
    ...e,
    params: { ...e.params, epsilon },
    learned: {
      factors: k.factors,
      info: { ...info, kept_step: k.step, loss_ratio: k.nll / states[0].nll, epsilon },
    },
  };
  return { edit: capped, ratio: k.nll / states[0].nll };
}

/** λ on the test facts, trained once: the cap-off row and the ε row. */
async function bothCaps(
  model: Gpt2Model,
  tok: TextTokenizer,
  cases: Parameters<typeof runSetting>[2],
  lambda: number,
  o: ForgetSuiteOptions,
): Promise<[ForgetRow, ForgetRow]> {
  const setting = settingOf(lambda, o.lr);
  const off = { scores: [] as CaseScore[], infos: [] as LoraInfo[] };
  const on = { scores: [] as CaseScore[], infos: [] as LoraInfo[] };
  let params = 0;
  for (const c of cases) {
    await checkLearningCancelled(o.signal);
    const before = await negativeLogProbs(model, tok, c);
    const states: LoraState[] = [];
    const r = await methodEdit(model, tok, c, setting, {
      ...o,
      epsilon: NO_CAP,
      onState: (x) => states.push(x),
    });
    const e = r.edit as LoraEdit;
    const capped = cappedEdit(e, states, o.epsilon);
    const { threshold } = o;
    off.scores.push(await scoreEdit(model, tok, c, e, { threshold, ratio: r.ratio, before }));
    on.scores.push(
      await scoreEdit(model, tok, c, capped.edit, { threshold, ratio: capped.ratio, before }),
    );
    off.infos.push(e.learned?.info as LoraInfo);
    on.infos.push(capped.edit.learned?.info as LoraInfo);
    params = r.params;
  }
  const row = (cap: "off" | number, x: typeof off): ForgetRow => ({
    lambda,
    cap,
    result: settingResult({ setting, ...x, params, alphas: x.scores.map(() => 1) }),
  });
  return [row("off", off), row(o.epsilon, on)];
}

/** Paired effects of the chosen λ against λ = 0, per cap. */
function effectsOf(rows: readonly ForgetRow[], lambda: number, seed: number): ForgetEffect[] {
  const caps = [...new Set(rows.map((r) => r.cap))];
  return caps.map((cap) => {
    const get = (l: number) =>
      rows.find((r) => r.cap === cap && r.lambda === l)?.result.cases ?? [];
    const d = (k: keyof CaseScore) =>
      pairedDiff(
        get(lambda).map((x) => x[k]),
        get(0).map((x) => x[k]),
        { seed },
      );
    return {
      cap,
      heldout: d("heldout"),
      ood: d("ood"),
      neg_dnll: d("neg_dnll"),
      ratio: d("ratio"),
    };
  });
}

/**
 * The regulariser's importance of the trained weights (the layer range's LoRA modules), once for
 * the run: it depends on the model, the general texts and the importance settings, not on λ or
 * the fact, so every training gets the numbers it would compute itself.
 */
function runImportance(model: Gpt2Model, tok: TextTokenizer, o: ForgetSuiteOptions) {
  // a layer range outside the model is refused by name, as every training would refuse it
  checkEdit(
    { kind: "lora", site: { layers: o.layers }, params: { prefix: "", suffix: "" } },
    model.config,
  );
  const modules = loraModulesOf(model.config, LORA_DEFAULTS.modules);
  const weights = [];
  for (let layer = o.layers[0]; layer <= o.layers[1]; layer++)
    for (const m of modules) weights.push({ layer, name: loraWeight(m, model.config).name });
  const params = { ...o.forget, lambda: 1 };
  return computeImportance({ model, tok, weights, texts: capTexts(o), params, signal: o.signal });
}

/** The whole experiment (see the file comment). */
export async function runForgetSuite(
  model: Gpt2Model,
  tok: TextTokenizer,
  options: ForgetSuiteOptions,
): Promise<ForgetSuiteResult> {
  const importance = await runImportance(model, tok, options);
  try {
    return await forgetSuite(model, tok, { ...options, importance });
  } finally {
    importance.dispose();
  }
}

async function forgetSuite(
  model: Gpt2Model,
  tok: TextTokenizer,
  o: ForgetSuiteOptions,
): Promise<ForgetSuiteResult> {
  const { val, test } = canonicalCases(o.dataset, { capTexts: o.texts, ...o.cases });
  const suite = { ...o, grids: [] };
  const validation: SettingResult[] = [];
  let lambda = o.lambdas[0];
  let at_edge = false;
  if (o.lambdas.length > 1) {
    const c = await chooseSetting({
      grid: o.lambdas.map((l) => settingOf(l, o.lr)),
      score: async (s) => {
        const r = await runSetting(model, tok, val, s, suite);
        o.onProgress?.(`val λ ${s.lambda}: ood ${r.mean.ood.toFixed(3)}`);
        o.onResult?.("val", r);
        return r;
      },
      better,
      maxExtend: o.maxExtend ?? 2,
    });
    validation.push(...c.results);
    lambda = c.chosen.lambda ?? lambda;
    at_edge = c.at_edge;
  }
  const rows: ForgetRow[] = [];
  for (const l of [0, lambda]) {
    const [off, on] = await bothCaps(model, tok, test, l, o);
    o.onProgress?.(`test λ ${l}: ratio off ${off.result.mean.ratio.toFixed(6)}`);
    o.onResult?.("test", off.result);
    o.onResult?.("test", on.result);
    rows.push(off, on);
  }
  return {
    cases: { val: val.length, test: test.length },
    lr: o.lr,
    epsilon: o.epsilon,
    validation,
    lambda,
    at_edge,
    rows,
    effects: effectsOf(rows, lambda, o.seed),
  };
}
