/**
 * The types of the model's forward pass and its building blocks (lib/model/gpt2.ts): requests,
 * results, per-stage options, keys/values and the per-block weights that overrides may replace.
 * Shapes: B batch, T positions, D d_model, H query heads, Hkv K/V heads (= H but under GQA),
 * E head width (D / H but where head_dim says otherwise), M = d_mlp, V vocabulary.
 */
import type * as tf from "@tensorflow/tfjs";
import type { LinearOp } from "./block";
import type { HookPlan, ModelIntervention } from "./hook-plan";

export interface ForwardRequest {
  /** [B][T] token ids; every row has the same length. */
  inputIds: number[][];
  interventions?: readonly ModelIntervention[];
  /** Hook names to capture (values after that hook's interventions). */
  record?: readonly string[];
  /** Positions whose logits to return (default "all"). */
  logitPositions?: "all" | "last" | number[];
}

export interface ForwardResult {
  /** [B, P, V] for the requested positions. */
  logits: tf.Tensor3D;
  /** Recorded activations, in hook order; shapes as documented in intervention.ts. */
  activations: Map<string, tf.Tensor>;
}

/**
 * Keys and values of one block for a run of positions, as attention reads them: keys after
 * hook_k (and, in rotary families, after rotary and hook_rot_k), values after hook_v.
 */
export interface KeyValue {
  k: tf.Tensor4D; // [B, Hkv, T, E]
  v: tf.Tensor4D; // [B, Hkv, T, E]
}

export interface StageOptions {
  /** A plan from `model.hooks(...)`; none means no recording and no interventions. */
  hooks?: HookPlan;
}

export interface EmbedOptions extends StageOptions {
  /** Absolute position of the first id (the number of positions already cached). Default 0. */
  posOffset?: number;
}

export interface BlockOptions extends StageOptions {
  /**
   * Keys/values of the positions before resid's, from earlier block() calls on the same layer
   * ([Bp, Hkv, Tpast, E], Bp = B or 1, broadcast over the batch). resid then holds positions
   * [Tpast, Tpast + T). Hook positions are absolute; hook_pattern's key axis spans Tpast + T.
   */
  past?: KeyValue;
  /** The linear op (default: fused matMul); gradient passes plug in lib/edit/grad-blocks.ts's. */
  linear?: LinearOp;
  /**
   * Output only resid's positions [outFrom, T) (runBlock's BlockRun.outFrom): K/V still cover
   * every position; resid comes back [B, T − outFrom, D]. For a last block whose other positions
   * nobody reads; hooks after the K/V split see only the kept positions.
   */
  outFrom?: number;
}

export interface BlockResult {
  resid: tf.Tensor3D; // [B, T, D] hook_resid_post
  /** This block's own keys/values for resid's positions (not including past). */
  kv: KeyValue;
  activations: Map<string, tf.Tensor>;
}

export interface UnembedOptions extends StageOptions {
  /** Absolute position of resid's first row (for ln_final hook positions). Default 0. */
  posOffset?: number;
  /**
   * One-hot [B, P, T]: each row's own positions, picked after the final norm and its hook (which
   * so see the pass's rows and positions as they are); positions must then be "all". A matMul,
   * not a gather: its gradient runs on every backend (lib/edit/unembed-rows.ts builds it).
   */
  select?: tf.Tensor3D;
}

/**
 * What `withOverrides` can change: block weights (each the shape of the one it replaces; the
 * caller keeps ownership) and interventions that run before the caller's in every pass.
 */
export interface ModelOverrides {
  weights?: readonly { layer: number; name: BlockWeightName; value: tf.Tensor }[];
  interventions?: readonly ModelIntervention[];
}

/**
 * One block's weights by name, every family alike, as lib/model/block.ts reads them: every
 * matrix [In, Out] (GPT-2's Conv1D layout; hub nn.Linear weights transposed at upload). A
 * family whose checkpoint has no such bias holds zeros (so a bias edit works the same on every
 * family; lib/model/weight-roles.ts says which ones the checkpoint really has).
 */
export type BlockWeightName = keyof BlockTensors;

export interface BlockTensors {
  ln1g: tf.Tensor1D; // [D]
  /** LayerNorm bias; absent under RMSNorm. */
  ln1b?: tf.Tensor1D; // [D]
  /** q | k | v projections side by side: [D, (H + 2 Hkv) E] (GPT-2's c_attn as is). */
  wQkv: tf.Tensor2D;
  bQkv: tf.Tensor1D; // [(H + 2 Hkv) E]
  /** Attention output projection [H·E, D]: head h's rows are h·E … (h+1)·E − 1. */
  wO: tf.Tensor2D;
  bO: tf.Tensor1D; // [D]
  ln2g: tf.Tensor1D; // [D]
  ln2b?: tf.Tensor1D; // [D]
  /** MLP input [D, M]: c_fc, dense_h_to_4h, or the gate_proj of a gated MLP. */
  wIn: tf.Tensor2D;
  bIn: tf.Tensor1D; // [M]
  /** Gated MLP only: up_proj [D, M] (no bias). */
  wUp?: tf.Tensor2D;
  /** MLP down-projection [M, D] (ROME's site): c_proj, dense_4h_to_h, down_proj. */
  wOut: tf.Tensor2D;
  bOut: tf.Tensor1D; // [D]
}
