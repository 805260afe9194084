/**
 * The editors Hewitt et al. (2024) compare on canonical examples, each held to the same deviation
 * cap: general-text NLL ≤ (1 + ε)·original (docs/recipes.md "Canonical examples").
 *
 *   lora         LoRA on the MLP output weights of the layer range, the last training step within
 *                the cap kept (lib/edit/lora.ts)
 *   lora+forget  the same with the forgetting regulariser in the loss (lib/edit/forget.ts)
 *   full         full fine-tuning of the same weights (lib/edit/finetune.ts), same cap rule
 *   rome, memit  the closed-form edits of the same example (ROME at its default layer, MEMIT over
 *                the layer range, one request); they have no training trajectory, so the cap is
 *                met by scaling the update ΔW → α·ΔW, α the largest of ALPHAS within the cap
 *                (α = 0, no edit, always qualifies), as the paper tunes them to the cap
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits } from "./apply";
import type { CancelSignal } from "./cancel";
import type { CanonicalCase } from "./canonical-cases";
import type { EditDataset } from "./dataset";
import { type LoraOptions, learnLora } from "./lora";
import { learnBatch } from "./memit";
import { generalTextLoss } from "./metrics";
import { checkEdit } from "./plan";
import { computeRome } from "./rome";
import type { Edit, ForgetParams, LoraEdit, MemitEdit, RomeEdit } from "./types";

export const CANONICAL_METHODS = ["lora", "lora+forget", "full", "rome", "memit"] as const;
export type CanonicalMethod = (typeof CANONICAL_METHODS)[number];

/** The closed-form edits' scales, largest first (the first within the cap is kept). */
export const ALPHAS = [1, 0.7, 0.5, 0.35, 0.25, 0.18, 0.12, 0.08, 0.05, 0.03, 0];

/** What every method shares. */
export interface MethodOptions {
  epsilon: number;
  /** The model's dataset.json: the cap's general texts, and ROME's / MEMIT's statistics. */
  dataset: EditDataset;
  /** The cap measures the first `texts` general texts. */
  texts: number;
  /** Trained methods: Adam steps and the layer range ([first, last]). */
  steps: number;
  layers: [number, number];
  /** LoRA's rank. */
  rank: number;
  /** The forgetting regulariser's settings (lora+forget; λ from the setting). */
  forget: Omit<ForgetParams, "lambda">;
  seed: number;
  signal?: CancelSignal;
  /** The trained methods' every measured state (lib/edit/lora.ts LoraOptions.onState). */
  onState?: LoraOptions["onState"];
  /** lora+forget: the importance computed once for the run (LoraOptions.importance). */
  importance?: LoraOptions["importance"];
}

/** One point of a method's hyper-parameter grid: the learning rate, or λ for lora+forget. */
export interface MethodSetting {
  method: CanonicalMethod;
  lr?: number;
  lambda?: number;
}

export interface MethodEdit {
  edit: Edit;
  /** General-text NLL ratio of the edited model (≤ 1 + ε). */
  ratio: number;
  /** Trainable numbers (LoRA, full) or the update's (ROME u, v; MEMIT a, b). */
  params: number;
  /** The closed-form edits' scale α (1 for the trained ones). */
  alpha: number;
}

/** The general texts of the cap. */
export const capTexts = (o: Pick<MethodOptions, "dataset" | "texts">): string[] =>
  (o.dataset.general_text ?? []).slice(0, o.texts);

function scaled(e: Edit, alpha: number): Edit {
  if (e.kind === "rome" && e.learned)
    return { ...e, learned: { ...e.learned, v: e.learned.v.map((x) => x * alpha) } };
  if (e.kind === "memit" && e.learned) {
    const layers = e.learned.layers.map((l) => ({ ...l, b: l.b.map((x) => x * alpha) }));
    return { ...e, learned: { ...e.learned, layers } };
  }
  return e;
}

/** α·ΔW for the largest α of ALPHAS within the cap. */
async function capScaled(
  model: Gpt2Model,
  tok: TextTokenizer,
  e: Edit,
  o: MethodOptions,
): Promise<{ edit: Edit; ratio: number; alpha: number }> {
  const texts = capTexts(o);
  const original = await generalTextLoss(model, tok, texts);
  for (const alpha of ALPHAS) {
    if (alpha === 0) return { edit: scaled(e, 0), ratio: 1, alpha: 0 };
    const edit = scaled(e, alpha);
    const m = applyEdits(model, [edit]);
    try {
      const ratio = (await generalTextLoss(m, tok, texts)).nll / original.nll;
      if (ratio <= 1 + o.epsilon) return { edit, ratio, alpha };
    } finally {
      m.dispose();
    }
  }
  throw new Error("unreachable: α = 0 always qualifies");
}

/** The edit of one canonical example by one method and setting, within the cap. */
export async function methodEdit(
  model: Gpt2Model,
  tok: TextTokenizer,
  c: CanonicalCase,
  s: MethodSetting,
  o: MethodOptions,
): Promise<MethodEdit> {
  const { dataset } = o;
  if (s.method === "lora" || s.method === "lora+forget" || s.method === "full") {
    const lora: LoraEdit = {
      kind: "lora",
      site: { layers: o.layers },
      params: {
        prefix: c.prefix,
        suffix: c.suffix,
        rank: o.rank,
        alpha: o.rank,
        steps: o.steps,
        seed: o.seed,
        epsilon: o.epsilon,
        texts: o.texts,
        eval_prompts: c.heldout,
        ...(s.lr !== undefined ? { lr: s.lr } : {}),
        ...(s.method === "full" ? { full: true } : {}),
        ...(s.method === "lora+forget" ? { forget: { ...o.forget, lambda: s.lambda ?? 0 } } : {}),
      },
    };
    checkEdit(lora, model.config); // a layer range outside the model is refused by name
    const e = await learnLora(model, tok, lora, {
      dataset,
      signal: o.signal,
      onState: o.onState,
      importance: o.importance,
    });
    const info = e.learned?.info;
    return { edit: e, ratio: info?.loss_ratio ?? 1, params: info?.params ?? 0, alpha: 1 };
  }
  const request = { prompt: c.template, subject: c.subject, target_new: c.suffix };
  if (s.method === "rome") {
    const rome: RomeEdit = { kind: "rome", site: {}, params: { ...request } };
    checkEdit(rome, model.config);
    const { edit } = await computeRome(model, tok, rome, { dataset, signal: o.signal });
    const r = await capScaled(model, tok, edit, o);
    const n = edit.learned ? edit.learned.u.length + edit.learned.v.length : 0;
    return { ...r, params: n };
  }
  const memit: MemitEdit = {
    kind: "memit",
    site: { layers: range(o.layers) },
    params: { requests: [request] },
  };
  checkEdit(memit, model.config);
  const e = await learnBatch(model, tok, memit, { dataset, signal: o.signal });
  const r = await capScaled(model, tok, e, o);
  const n =
    e.kind === "memit"
      ? (e.learned?.layers ?? []).reduce((k, l) => k + l.a.length + l.b.length, 0)
      : 0;
  return { ...r, params: n };
}

const range = ([a, b]: [number, number]) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
