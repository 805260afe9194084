/**
 * Hook points, named as in TransformerLens so researchers can read them at a glance, built by
 * one typed helper (a misspelt hook is a type error, not a silent miss). The order is the order
 * in which one forward pass produces them. Which of them a model fires depends on its family
 * (blockHooksOf):
 *   GPT-2     the twelve of GPT2_BLOCK_HOOKS, plus hook_pos_embed (learned positions);
 *   Llama     all but none: ln1/ln2.hook_normalized (the norm's output after its weight, what
 *             the next layer reads), hook_q/hook_k before rotary and hook_rot_q/hook_rot_k after,
 *             hook_k/hook_v/hook_rot_k with num_key_value_heads heads (TransformerLens default),
 *             mlp.hook_pre (gate_proj output) and mlp.hook_pre_linear (up_proj output);
 *   GPT-NeoX  as Llama without hook_pre_linear, and without hook_resid_mid in a parallel block.
 */
import { familyOf, type ModelConfig } from "../load/model-config";

export const ALL_BLOCK_HOOKS = [
  "hook_resid_pre",
  "ln1.hook_normalized",
  "attn.hook_q",
  "attn.hook_k",
  "attn.hook_v",
  "attn.hook_rot_q",
  "attn.hook_rot_k",
  "attn.hook_pattern",
  "attn.hook_z",
  "hook_attn_out",
  "hook_resid_mid",
  "ln2.hook_normalized",
  "mlp.hook_pre",
  "mlp.hook_pre_linear",
  "mlp.hook_post",
  "hook_mlp_out",
  "hook_resid_post",
] as const;

export type BlockHook = (typeof ALL_BLOCK_HOOKS)[number];

/** GPT-2's block hooks (no norm outputs, no rotary). */
export const BLOCK_HOOKS: readonly BlockHook[] = [
  "hook_resid_pre",
  "attn.hook_q",
  "attn.hook_k",
  "attn.hook_v",
  "attn.hook_pattern",
  "attn.hook_z",
  "hook_attn_out",
  "hook_resid_mid",
  "mlp.hook_pre",
  "mlp.hook_post",
  "hook_mlp_out",
  "hook_resid_post",
];

export type HookName =
  | "hook_embed"
  | "hook_pos_embed"
  | "ln_final.hook_normalized"
  | `blocks.${number}.${BlockHook}`;

/** `blockHook(3, "hook_mlp_out")` → "blocks.3.hook_mlp_out" (TransformerLens get_act_name). */
export function blockHook(layer: number, hook: BlockHook): HookName {
  return `blocks.${layer}.${hook}`;
}

/** The block hooks this config's blocks fire, in order. */
export function blockHooksOf(c: Pick<ModelConfig, "modelType" | "parallelResidual">): BlockHook[] {
  const family = familyOf(c);
  if (family === "gpt2") return [...BLOCK_HOOKS];
  return ALL_BLOCK_HOOKS.filter((h) => {
    if (family === "llama") return true;
    if (h === "mlp.hook_pre_linear") return false; // NeoX's MLP is not gated
    return !(h === "hook_resid_mid" && c.parallelResidual);
  });
}

/** Every hook of the model, in the order one forward pass fires them. */
export function modelHookNames(
  c: Pick<ModelConfig, "modelType" | "parallelResidual" | "nLayer">,
): HookName[] {
  const block = blockHooksOf(c);
  const names: HookName[] =
    familyOf(c) === "gpt2" ? ["hook_embed", "hook_pos_embed"] : ["hook_embed"];
  for (let l = 0; l < c.nLayer; l++) for (const h of block) names.push(blockHook(l, h));
  names.push("ln_final.hook_normalized");
  return names;
}

/** GPT-2's full ordered list of hook names for a model with `nLayer` blocks. */
export function hookNames(nLayer: number): string[] {
  return modelHookNames({ modelType: "gpt2", nLayer });
}
