/**
 * A trained ABSC method (lib/edit/absc-train.ts AbscVars) as edits of the stack, so the app can
 * apply what the recipe learned exactly as it was scored:
 *
 *   joint     a loreft edit (R, W, b per layer at the aspect position of resid_post) and a lora
 *             edit with one factor per layer on the attention output projection (s = α/r = 1)
 *   loreft    the loreft edit alone
 *   lora_all  the lora edit with a factor on every layer
 *   ft_layer  none: full fine-tuning changes the block's norms and biases as well, which no
 *             edit kind of the stack holds (a lora edit's factors change weight matrices only)
 *
 * The lora edit's prefix / suffix (required of the kind, used only to train a canonical example)
 * name the first training review and its label; its learned factors mean it is never retrained.
 * Each edit's label says what it is: the method, what it was trained on and its scored accuracy
 * (the stack shows a lora edit's label in place of its example, lib/edit/types.ts describeEdit).
 */

import type { AbscReview } from "./absc-data";
import { abscPercent } from "./absc-request";
import type { AbscMethod, AbscResult, AbscVars } from "./absc-train";
import { type AnyModelConfig, loraRole } from "./family-sites";
import type { Edit, LoraEdit } from "./types";
import type { LoraFactor, LoraModule, LoreftEdit } from "./types-trained";
import { LORA_MODULES } from "./types-trained";

/** The family's own name for the attention output projection (GPT-2 attn.c_proj, Llama o_proj, NeoX dense). */
export function attnOutModule(config: AnyModelConfig): LoraModule {
  const m = LORA_MODULES.find((name) => {
    try {
      return loraRole(config, name).role === "wO";
    } catch {
      return false;
    }
  });
  if (!m) throw new Error("this model family has no attention output projection module");
  return m;
}

export interface AbscEditOptions {
  method: AbscMethod;
  rank: number;
  steps: number;
  lr: number;
  seed: number;
  n_train: number;
  /** The first of the training reviews (names the lora edit). */
  example: AbscReview;
  /** Makes the edits' ids unique in a stack. */
  id: string;
  /** The method's scored row (its losses and test accuracies name the edits). */
  result: Pick<AbscResult, "losses" | "splits">;
}

/**
 * What a trained method's edits are, for their labels, e.g. "ABSC joint (LoReFT + LoRA), 96
 * reviews × 60 steps, lr 0.01: in domain 48.0% → 63.3%, out of domain 50.0% → 52.0%, loss 0.512".
 */
export function abscLabel(o: AbscEditOptions): string {
  const what = o.method === "joint" ? "joint (LoReFT + LoRA)" : o.method;
  const acc = o.result.splits
    .map((s) => `${s.name.replace(/_/g, " ")} ${abscPercent(s.before)} → ${abscPercent(s.after)}`)
    .join(", ");
  const last = o.result.losses[o.result.losses.length - 1];
  const loss = last ? `, loss ${last.loss.toFixed(3)}` : "";
  return `ABSC ${what}, ${o.n_train} reviews × ${o.steps} steps, lr ${o.lr}: ${acc}${loss}`;
}

const values = async (t: { data(): Promise<ArrayLike<number>> }) => Array.from(await t.data());

/** The edits that apply a trained method, or why it cannot be applied. */
export async function abscEdits(
  v: AbscVars,
  config: AnyModelConfig,
  o: AbscEditOptions,
): Promise<{ edits: Edit[] } | { reason: string }> {
  if (o.method === "ft_layer") {
    return {
      reason:
        "full fine-tuning also changes the block's norms and biases, which no edit kind of the stack holds",
    };
  }
  const edits: Edit[] = [];
  const label = abscLabel(o);
  if (v.loreft.length > 0) {
    const layers = v.loreft.map((x) => x.layer);
    const learned: LoreftEdit["learned"] = { layers: [] };
    for (const { layer, v: x } of v.loreft) {
      learned.layers.push({
        layer,
        R: await values(x.R),
        W: await values(x.W),
        b: await values(x.b),
      });
    }
    edits.push({
      kind: "loreft",
      id: `${o.id}-loreft`,
      label,
      site: { layers, hook: "resid_post", position: "aspect" },
      params: { rank: o.rank, n_train: o.n_train, steps: o.steps, lr: o.lr, seed: o.seed },
      learned,
    } satisfies LoreftEdit);
  }
  if (v.lora.length > 0) {
    const module = attnOutModule(config);
    const factors: LoraFactor[] = [];
    for (const { layer, a, b } of v.lora) {
      factors.push({ layer, module, a: await values(a), b: await values(b) });
    }
    const layers = factors.map((f) => f.layer);
    edits.push({
      kind: "lora",
      id: `${o.id}-lora`,
      label,
      site: { layers: [Math.min(...layers), Math.max(...layers)] },
      params: {
        prefix: o.example.prompt,
        suffix: o.example.label,
        rank: o.rank,
        alpha: o.rank, // s = α / r = 1, the recipe's scale
        modules: [module],
        steps: o.steps,
        lr: o.lr,
        seed: o.seed,
      },
      learned: { factors },
    } satisfies LoraEdit);
  }
  return { edits };
}
