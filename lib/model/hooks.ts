/**
 * Hook points, named as in TransformerLens so researchers can read them at a glance.
 * The order is the order in which activations are produced in one forward pass.
 */
export const BLOCK_HOOKS = [
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
] as const;

export type BlockHook = (typeof BLOCK_HOOKS)[number];

/** The full ordered list of hook names for a model with `nLayer` blocks. */
export function hookNames(nLayer: number): string[] {
  const names = ["hook_embed", "hook_pos_embed"];
  for (let l = 0; l < nLayer; l++) for (const h of BLOCK_HOOKS) names.push(`blocks.${l}.${h}`);
  names.push("ln_final.hook_normalized");
  return names;
}

/** `blockHook(3, "hook_mlp_out")` → "blocks.3.hook_mlp_out" (TransformerLens get_act_name). */
export function blockHook(layer: number, hook: BlockHook): string {
  return `blocks.${layer}.${hook}`;
}
