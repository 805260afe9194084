/**
 * Interventions are data, not closures, so they can be batched, serialised into a URL and run
 * identically in Node and the browser.
 *
 * Activation shapes at each hook (B = batch, T = positions, H = heads, D = d_model, E = head dim):
 *   hook_embed, hook_pos_embed, hook_resid_*, hook_attn_out, hook_mlp_out: [B, T, D]
 *   attn.hook_q | hook_k | hook_v | hook_z:                                  [B, T, H, E]
 *   attn.hook_pattern:                                                       [B, H, Tq, Tk]
 *   mlp.hook_pre | hook_post:                                                [B, T, dMlp]
 */
export type InterventionOp = "replace" | "add" | "scale" | "zero";

export interface Intervention {
  hook: string;
  op: InterventionOp;
  /** Batch rows affected; all rows when absent. */
  batchIndex?: number[];
  /** Positions affected (query positions for hook_pattern); all when absent. */
  positions?: number[];
  /** Heads affected, for per-head hooks (q, k, v, z, pattern); all when absent. */
  heads?: number[];
  /**
   * replace / add: a flat Float32Array (or number[]) broadcast onto the selected slice.
   *   Its length is either the trailing feature size (D, E or dMlp; Tk for pattern), applied at
   *   every selected (row, position[, head]), or the full selected slice size
   *   (rows × positions [× heads] × features, row-major in that order).
   * scale: a single number. zero: ignored.
   */
  value?: Float32Array | number[] | number;
}
