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
export type InterventionOp = "replace" | "add" | "scale" | "zero" | "loreft" | "match_add";

/**
 * LoReFT's low-rank representation edit (Wu et al. 2024), at btf hooks only:
 *   h ← h + Rᵀ(W h + b − R h)
 * R, W: r×D row-major (R's rows orthonormal for the edit to be LoReFT's), b: r. It depends on
 * the activation h, so it is applied to the values computed in each pass.
 */
export interface LoreftValue<T = Float32Array | number[]> {
  R: T;
  W: T;
  b: T;
}

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
   *   The selection is ordered rows × positions [× heads] × features (features: D, E or dMlp;
   *   Tk for pattern), row-major in that order, and the value fills a trailing run of those
   *   axes, repeated over the leading ones: its length is the product of such a run,
   *     F                                   one vector on every selected cell
   *     P × F          (btf hooks)          one vector per position, the same in every row
   *     Hs × F, P × Hs × F (per-head hooks) per head, or per position and head, in every row
   *     R × P [× Hs] × F                    the whole selection
   *   e.g. subject-noise corruption: add at hook_embed, positions = subject, value [P × D].
   *   (Lib code may also pass a tfjs tensor of that many numbers: see ModelIntervention.)
   * scale: a single number. zero, loreft: ignored.
   */
  value?: Float32Array | number[] | number;
  /** loreft: the edit's R, W, b (see LoreftValue). */
  loreft?: LoreftValue;
  /**
   * match_add (hook_embed only): for each key, its token ids and P × F offsets (row-major) added
   * at every occurrence of those ids in the pass's input (SWEA; lib/model/token-match.ts).
   * batchIndex and positions are not used.
   */
  matches?: { tokens: number[]; value: Float32Array | number[] }[];
}
