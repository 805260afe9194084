/**
 * The types of GPT-2's forward pass and its building blocks (lib/model/gpt2.ts): requests,
 * results, per-stage options, keys/values and the per-block weights that overrides may replace.
 * Shapes: B batch, T positions, D d_model, H heads, E = D / H, M = d_mlp, V vocabulary.
 */
import type * as tf from "@tensorflow/tfjs";
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

/** Keys and values of one block for a run of positions, after hook_k / hook_v. */
export interface KeyValue {
  k: tf.Tensor4D; // [B, H, T, E]
  v: tf.Tensor4D; // [B, H, T, E]
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
   * ([Bp, H, Tpast, E], Bp = B or 1, broadcast over the batch). resid then holds positions
   * [Tpast, Tpast + T). Hook positions are absolute; hook_pattern's key axis spans Tpast + T.
   */
  past?: KeyValue;
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
}

/**
 * What `withOverrides` can change: block weights (each the shape of the one it replaces; the
 * caller keeps ownership) and interventions that run before the caller's in every pass.
 */
export interface ModelOverrides {
  weights?: readonly { layer: number; name: BlockWeightName; value: tf.Tensor }[];
  interventions?: readonly ModelIntervention[];
}

/** One block's weights by name (Conv1D layout: wOut is mlp.c_proj.weight [M, D], bO attn.c_proj.bias). */
export type BlockWeightName = keyof BlockTensors;

export interface BlockTensors {
  ln1g: tf.Tensor1D;
  ln1b: tf.Tensor1D;
  wQkv: tf.Tensor2D; // [D, 3D]
  bQkv: tf.Tensor1D; // [3D]
  wO: tf.Tensor2D; // [D, D]
  bO: tf.Tensor1D;
  ln2g: tf.Tensor1D;
  ln2b: tf.Tensor1D;
  wIn: tf.Tensor2D; // [D, M]
  bIn: tf.Tensor1D; // [M]
  wOut: tf.Tensor2D; // [M, D]
  bOut: tf.Tensor1D;
}
