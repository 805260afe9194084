/**
 * Hook names of the Llama and GPT-NeoX families, TransformerLens's names in production order
 * (see scripts/reference/llama_ref.py for shapes). One typed builder makes every name, so a
 * misspelt hook is a type error, not a silent miss.
 *
 * Differences from GPT-2's list (lib/model/hooks.ts): no hook_pos_embed (rotary models have no
 * position embedding); ln1/ln2.hook_normalized (the norm's output after its weight, what the
 * next layer reads); hook_q/hook_k before rotary and hook_rot_q/hook_rot_k after it; under GQA,
 * hook_k/hook_v/hook_rot_k have num_key_value_heads heads (TransformerLens's default); the gated
 * MLP's up_proj output is mlp.hook_pre_linear; a parallel-residual NeoX block has no
 * hook_resid_mid (it does not exist there).
 */
import type { FamilyConfig } from "./config";

export const FAMILY_BLOCK_HOOKS = [
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

export type FamilyBlockHook = (typeof FAMILY_BLOCK_HOOKS)[number];

export type FamilyHookName =
  | "hook_embed"
  | "ln_final.hook_normalized"
  | `blocks.${number}.${FamilyBlockHook}`;

/** `blockHookName(3, "hook_mlp_out")` → "blocks.3.hook_mlp_out". */
export function blockHookName(layer: number, hook: FamilyBlockHook): FamilyHookName {
  return `blocks.${layer}.${hook}`;
}

/** The block hooks this config's blocks fire, in order. */
export function familyBlockHooks(config: FamilyConfig): FamilyBlockHook[] {
  return FAMILY_BLOCK_HOOKS.filter((h) => {
    if (config.family === "llama") return true;
    if (h === "mlp.hook_pre_linear") return false; // NeoX's MLP is not gated
    return !(h === "hook_resid_mid" && config.parallel);
  });
}

/** Every hook of the model, in the order one forward pass fires them. */
export function familyHookNames(config: FamilyConfig): FamilyHookName[] {
  const block = familyBlockHooks(config);
  const names: FamilyHookName[] = ["hook_embed"];
  for (let l = 0; l < config.nLayer; l++) for (const h of block) names.push(blockHookName(l, h));
  names.push("ln_final.hook_normalized");
  return names;
}
