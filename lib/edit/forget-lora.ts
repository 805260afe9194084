/**
 * The forgetting regulariser (./forget.ts) wired into the LoRA / full fine-tuning trainer
 * (./lora.ts): the trained modules' changes as full-width weight deltas, the importance of the
 * trained weights when the edit asks for the penalty, and the penalty's value for the losses.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { type ModelLike, padColumns } from "./apply";
import type { CancelSignal } from "./cancel";
import {
  computeImportance,
  type ForgetImportance,
  forgettingPenalty,
  type WeightDelta,
} from "./forget";
import type { Trainable } from "./lora";
import type { LoraEdit } from "./types";

/** The penalty's importance and λ (`owned`: freed with the edit), or null when off. */
export type Forget = { imp: ForgetImportance; lambda: number; owned: boolean } | null;

/** Every trained weight's change, full width [in, out]: q/k/v parts of one fused weight add up. */
export function weightDeltas(view: Gpt2Model, train: readonly Trainable[]): WeightDelta[] {
  const byWeight = new Map<string, WeightDelta>();
  for (const t of train) {
    const k = `${t.layer}:${t.name}`;
    const w = view.blockWeight(t.layer, t.name); // [in, out]
    const d = padColumns(t.delta(), t.colOffset, w);
    const prev = byWeight.get(k)?.delta;
    byWeight.set(k, { layer: t.layer, name: t.name, delta: prev ? prev.add(d) : d });
  }
  return [...byWeight.values()];
}

/** The forgetting penalty of the trained changes now, on the host (null when off). */
export function penaltyNow(view: Gpt2Model, train: readonly Trainable[], forget: Forget) {
  return async (): Promise<number | null> => {
    if (!forget) return null;
    const v = tf.tidy(() => forgettingPenalty(forget.imp, weightDeltas(view, train)));
    const x = (await v.data())[0];
    v.dispose();
    return x;
  };
}

/**
 * Importance of the trained weights for the general text, when the edit asks for the penalty:
 * `given` when the caller computed it already for the same model, weights, texts and settings
 * (it does not depend on λ or the example: lib/edit/forget-suite.ts computes it once per run).
 */
export async function forgetOf(o: {
  model: ModelLike;
  tok: TextTokenizer;
  train: readonly Trainable[];
  texts: readonly string[];
  p: LoraEdit["params"];
  signal?: CancelSignal;
  given?: ForgetImportance;
}): Promise<Forget> {
  const f = o.p.forget;
  if (!f || !(f.lambda > 0)) return null;
  if (o.given) return { imp: o.given, lambda: f.lambda, owned: false };
  const weights = o.train.map((t) => ({ layer: t.layer, name: t.name }));
  const imp = await computeImportance({ ...o, weights, params: f });
  return { imp, lambda: f.lambda, owned: true };
}
