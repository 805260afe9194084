/**
 * GPT-2 forward pass in tfjs with TransformerLens hook points (lib/model/hooks.ts), HF
 * GPT2LMHeadModel math: pre-LayerNorm blocks, Conv1D weights (y = x @ W + b), causal attention
 * scaled by 1/sqrt(E), GELU (tanh approximation, or exact erf), and an unembedding tied to wte.
 *
 * Everything here builds a tfjs graph synchronously and never reads from the device: callers
 * own the tensors they get back and dispose them; intermediates are freed by tf.tidy.
 *
 * The pass is three public building blocks that `forward` composes, so a tracing engine can
 * restart from any layer with its own residual stream and reuse a prefix's keys/values:
 *   embed(ids, {posOffset})         → resid [B, T, D] for positions [posOffset, posOffset + T)
 *   block(l, resid, {past})         → resid, plus this block's own K/V for resid's positions
 *   unembed(resid, positions)       → logits [B, P, V]
 * Shapes: B batch, T positions, D d_model, H heads, E = D / H, M = d_mlp, V vocabulary.
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Config, Gpt2Weights } from "../load/types";
import { ModelError } from "./errors";
import type {
  BlockOptions,
  BlockResult,
  BlockTensors,
  BlockWeightName,
  EmbedOptions,
  ForwardRequest,
  ForwardResult,
  ModelOverrides,
  UnembedOptions,
} from "./gpt2-types";
import { uploadWeights } from "./gpt2-weights";
import { type HookOptions, HookPlan, type ModelIntervention } from "./hook-plan";
import { hookNames } from "./hooks";
import { causalBias, gelu, layerNorm, repeatRows } from "./ops";

export type {
  BlockOptions,
  BlockResult,
  BlockWeightName,
  EmbedOptions,
  ForwardRequest,
  ForwardResult,
  KeyValue,
  ModelOverrides,
  StageOptions,
  UnembedOptions,
} from "./gpt2-types";
export type { HookOptions, ModelIntervention } from "./hook-plan";
export { HookPlan } from "./hook-plan";

/** Conv1D: [B, T, In] @ [In, Out] + [Out] → [B, T, Out]. */
function linear(x: tf.Tensor3D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor3D {
  const [B, T, In] = x.shape;
  const y = tf.fused.matMul({ a: x.reshape([B * T, In]), b: w, bias: b }); // [B*T, Out]
  return y.reshape([B, T, w.shape[1]]);
}

function toRecord(acts: Record<string, tf.Tensor>): Map<string, tf.Tensor> {
  return new Map(Object.entries(acts));
}

export class Gpt2Model {
  readonly nParams: number;
  readonly hookNames: readonly string[];
  /**
   * The token embedding stored transposed, wteᵀ [D, V]: the unembedding x @ wteᵀ is then a plain
   * matMul, which tfjs-wasm sends to XNNPACK (a transposed operand falls into a scalar loop,
   * 2.3× slower on a whole GPT-2-small trace); the embedding gathers columns instead of rows.
   */
  private readonly wteT: tf.Tensor2D; // [D, V]
  private readonly wpe: tf.Tensor2D; // [nCtx, D]
  private readonly blocks: BlockTensors[];
  private readonly lnFg: tf.Tensor1D;
  private readonly lnFb: tf.Tensor1D;
  private disposed = false;
  /** Set on views made by withOverrides: interventions prepended to every pass. */
  private baseInterventions: readonly ModelIntervention[] = [];
  /** A view shares its parent's tensors and never disposes them. */
  private isView = false;

  private constructor(
    readonly config: Gpt2Config,
    weights: Gpt2Weights,
  ) {
    const w = uploadWeights(config, weights);
    this.wteT = w.wteT;
    this.wpe = w.wpe;
    this.blocks = w.blocks;
    this.lnFg = w.lnFg;
    this.lnFb = w.lnFb;
    this.nParams = w.nParams;
    this.hookNames = hookNames(config.nLayer);
  }

  /** Checks every weight's shape against the config and uploads it to the current backend once. */
  static fromWeights(config: Gpt2Config, weights: Gpt2Weights): Gpt2Model {
    return new Gpt2Model(config, weights);
  }

  /** A validated hook plan (recording + interventions) for embed/block/unembed. */
  hooks(opts: HookOptions = {}): HookPlan {
    const { nLayer, nHead, nCtx } = this.config;
    if (this.baseInterventions.length === 0) return new HookPlan({ nLayer, nHead, nCtx }, opts);
    const interventions = [...this.baseInterventions, ...(opts.interventions ?? [])];
    return new HookPlan({ nLayer, nHead, nCtx }, { ...opts, interventions });
  }

  /** A block weight as held on the device (do not dispose it). */
  blockWeight(layer: number, name: BlockWeightName): tf.Tensor {
    const b = this.blocks[layer];
    if (!b || !(name in b))
      throw new ModelError("bad_input", `no weight ${name} in layer ${layer}`);
    return b[name];
  }

  /**
   * A view of this model with some block weights replaced and interventions added to every
   * pass (lib/edit applies edits this way). It shares every other tensor with this model; its
   * dispose() frees nothing, and it must not outlive this model or the tensors it was given.
   */
  withOverrides(o: ModelOverrides): Gpt2Model {
    const blocks = this.blocks.map((b) => ({ ...b }));
    for (const { layer, name, value } of o.weights ?? []) {
      const old = this.blockWeight(layer, name);
      if (old.shape.join() !== value.shape.join()) {
        throw new ModelError(
          "bad_weights",
          `override ${name} of layer ${layer} has shape [${value.shape}], expected [${old.shape}]`,
        );
      }
      (blocks[layer] as Record<BlockWeightName, tf.Tensor>)[name] = value;
    }
    const baseInterventions = [...this.baseInterventions, ...(o.interventions ?? [])];
    const { nLayer, nHead, nCtx } = this.config;
    new HookPlan({ nLayer, nHead, nCtx }, { interventions: baseInterventions }); // validate now
    const view = Object.create(Gpt2Model.prototype) as Gpt2Model;
    Object.assign(view, this, { blocks, baseInterventions, isView: true, disposed: false });
    return view;
  }

  /** The whole pass: embed → every block → unembed. Synchronous; the caller disposes the result. */
  forward(req: ForwardRequest): ForwardResult {
    const hooks = this.hooks(req);
    const T = this.checkIds(req.inputIds, 0);
    hooks.check(req.inputIds.length, T);
    const positions = this.logitPositions(req.logitPositions ?? "all", T);
    const out = tf.tidy(() => {
      const acts: Record<string, tf.Tensor> = {};
      const take = (m: Map<string, tf.Tensor>) => {
        for (const [k, v] of m) acts[k] = v;
      };
      const e = this.embed(req.inputIds, { hooks });
      take(e.activations);
      let resid = e.resid;
      for (let l = 0; l < this.config.nLayer; l++) {
        const b = this.block(l, resid, { hooks });
        take(b.activations);
        resid = b.resid;
      }
      const u = this.unembed(resid, positions, { hooks });
      take(u.activations);
      return { logits: u.logits, acts };
    });
    return { logits: out.logits, activations: toRecord(out.acts) };
  }

  /** Token + position embeddings (hook_embed, hook_pos_embed) → resid [B, T, D]. */
  embed(
    inputIds: number[][],
    opts: EmbedOptions = {},
  ): { resid: tf.Tensor3D; activations: Map<string, tf.Tensor> } {
    const off = opts.posOffset ?? 0;
    const T = this.checkIds(inputIds, off);
    const B = inputIds.length;
    const D = this.config.dModel;
    const hooks = opts.hooks ?? this.hooks();
    const out = tf.tidy(() => {
      const acts: Record<string, tf.Tensor> = {};
      const ids = tf.tensor1d(Int32Array.from(inputIds.flat()), "int32"); // [B*T]
      let tok = this.wteT.gather(ids, 1).transpose().reshape([B, T, D]); // [D, B*T] → [B, T, D]
      tok = hooks.apply("hook_embed", tok, off, acts);
      let pos = repeatRows(this.wpe.slice([off, 0], [T, D]).expandDims(0), B); // [B, T, D]
      pos = hooks.apply("hook_pos_embed", pos, off, acts);
      return { resid: tok.add(pos) as tf.Tensor3D, acts };
    });
    return { resid: out.resid, activations: toRecord(out.acts) };
  }

  /**
   * Transformer block `layer` on resid [B, T, D] (hook_resid_pre … hook_resid_post). With
   * `past`, resid holds positions [Tpast, Tpast + T) and attends to the cached keys/values too.
   */
  block(layer: number, resid: tf.Tensor3D, opts: BlockOptions = {}): BlockResult {
    const { nHead: H, dModel: D, nCtx, layerNormEps: eps } = this.config;
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.config.nLayer) {
      throw new ModelError(
        "bad_input",
        `layer ${layer} does not exist (0 to ${this.config.nLayer - 1})`,
      );
    }
    const [B, T, Dr] = resid.shape;
    if (Dr !== D) throw new ModelError("bad_input", `resid has width ${Dr}, d_model is ${D}`);
    const E = D / H;
    const past = opts.past;
    const Tp = past ? past.k.shape[2] : 0;
    if (past) {
      const ok = (t: tf.Tensor4D) =>
        (t.shape[0] === B || t.shape[0] === 1) &&
        t.shape[1] === H &&
        t.shape[2] === Tp &&
        t.shape[3] === E;
      if (!ok(past.k) || !ok(past.v)) {
        throw new ModelError(
          "bad_input",
          `past keys/values have shapes [${past.k.shape}] / [${past.v.shape}], expected [${B} or 1, ${H}, Tpast, ${E}]`,
        );
      }
    }
    if (Tp + T > nCtx) {
      throw new ModelError(
        "bad_input",
        `${Tp + T} positions exceed the model's context of ${nCtx}`,
      );
    }
    const hooks = opts.hooks ?? this.hooks();
    const w = this.blocks[layer];
    const n = `blocks.${layer}.`;
    const out = tf.tidy(() => {
      const acts: Record<string, tf.Tensor> = {};
      const hook = <R extends tf.Tensor>(name: string, x: tf.Tensor) =>
        hooks.apply(n + name, x, Tp, acts) as R;

      const x0 = hook<tf.Tensor3D>("hook_resid_pre", resid); // [B, T, D]

      // attention
      const qkv = linear(layerNorm(x0, w.ln1g, w.ln1b, eps) as tf.Tensor3D, w.wQkv, w.bQkv); // [B, T, 3D]
      const [q0, k0, v0] = tf.split(qkv, 3, 2); // each [B, T, D]
      const q = hook<tf.Tensor4D>("attn.hook_q", q0.reshape([B, T, H, E])); // [B, T, H, E]
      const k = hook<tf.Tensor4D>("attn.hook_k", k0.reshape([B, T, H, E])); // [B, T, H, E]
      const v = hook<tf.Tensor4D>("attn.hook_v", v0.reshape([B, T, H, E])); // [B, T, H, E]
      const qh = q.transpose([0, 2, 1, 3]); // [B, H, T, E]
      const kh = k.transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, E]
      const vh = v.transpose([0, 2, 1, 3]) as tf.Tensor4D; // [B, H, T, E]
      const withPast = (p: tf.Tensor4D | undefined, own: tf.Tensor4D) => {
        if (!p) return own;
        const pb = p.shape[0] === B ? p : repeatRows(p, B); // [B, H, Tpast, E]
        return tf.concat([pb, own], 2); // [B, H, Tpast + T, E]
      };
      const kAll = withPast(past?.k, kh); // [B, H, Tk, E], Tk = Tpast + T
      const vAll = withPast(past?.v, vh); // [B, H, Tk, E]
      const scores = tf
        .matMul(qh, kAll, false, true) // [B, H, T, Tk]
        .mul(1 / Math.sqrt(E))
        .add(causalBias(T, Tp)); // query i (absolute Tp + i) sees keys j ≤ Tp + i
      const pattern = hook<tf.Tensor4D>("attn.hook_pattern", tf.softmax(scores)); // [B, H, T, Tk]
      const zh = tf.matMul(pattern, vAll); // [B, H, T, E]
      const z = hook<tf.Tensor4D>("attn.hook_z", zh.transpose([0, 2, 1, 3])); // [B, T, H, E]
      const attnOut = hook<tf.Tensor3D>("hook_attn_out", linear(z.reshape([B, T, D]), w.wO, w.bO)); // [B, T, D]
      const mid = hook<tf.Tensor3D>("hook_resid_mid", x0.add(attnOut)); // [B, T, D]

      // MLP
      const ln2 = layerNorm(mid, w.ln2g, w.ln2b, eps) as tf.Tensor3D;
      const pre = hook<tf.Tensor3D>("mlp.hook_pre", linear(ln2, w.wIn, w.bIn)); // [B, T, M]
      const post = hook<tf.Tensor3D>("mlp.hook_post", gelu(pre, this.config.activation)); // [B, T, M]
      const mlpOut = hook<tf.Tensor3D>("hook_mlp_out", linear(post, w.wOut, w.bOut)); // [B, T, D]
      const residPost = hook<tf.Tensor3D>("hook_resid_post", mid.add(mlpOut)); // [B, T, D]
      return { resid: residPost, k: kh, v: vh, acts };
    });
    return { resid: out.resid, kv: { k: out.k, v: out.v }, activations: toRecord(out.acts) };
  }

  /**
   * Final LayerNorm (ln_final.hook_normalized, all positions) and the tied unembedding at
   * `positions` (indices into resid's T axis) → logits [B, P, V].
   */
  unembed(
    resid: tf.Tensor3D,
    positions: "all" | "last" | number[],
    opts: UnembedOptions = {},
  ): { logits: tf.Tensor3D; activations: Map<string, tf.Tensor> } {
    const [B, T, D] = resid.shape;
    const pos = this.logitPositions(positions, T);
    const hooks = opts.hooks ?? this.hooks();
    const eps = this.config.layerNormEps;
    const out = tf.tidy(() => {
      const acts: Record<string, tf.Tensor> = {};
      let normed = layerNorm(resid, this.lnFg, this.lnFb, eps); // [B, T, D]
      normed = hooks.apply("ln_final.hook_normalized", normed, opts.posOffset ?? 0, acts);
      const identity = pos.length === T && pos.every((p, i) => p === i);
      const picked = identity
        ? normed
        : normed.gather(tf.tensor1d(Int32Array.from(pos), "int32"), 1); // [B, P, D]
      const P = pos.length;
      const logits = tf
        .matMul(picked.reshape([B * P, D]), this.wteT) // [B*P, V]
        .reshape([B, P, this.config.vocabSize]) as tf.Tensor3D; // [B, P, V]
      return { logits, acts };
    });
    return { logits: out.logits, activations: toRecord(out.acts) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.isView) return;
    tf.dispose([this.wteT, this.wpe, this.lnFg, this.lnFb]);
    for (const b of this.blocks) tf.dispose(Object.values(b));
  }

  /** Validates [B][T] ids (rectangular, in the vocabulary, fitting the context); returns T. */
  private checkIds(ids: number[][], posOffset: number): number {
    const { vocabSize, nCtx } = this.config;
    if (!Array.isArray(ids) || ids.length === 0) {
      throw new ModelError("bad_input", "inputIds must hold at least one row");
    }
    const T = ids[0]?.length ?? 0;
    if (T === 0) throw new ModelError("bad_input", "inputIds rows must hold at least one token");
    for (const [r, row] of ids.entries()) {
      if (row.length !== T) {
        throw new ModelError(
          "bad_input",
          `inputIds row ${r} has ${row.length} tokens, row 0 has ${T}`,
        );
      }
      for (const id of row) {
        if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
          throw new ModelError(
            "bad_input",
            `token id ${id} in row ${r} is outside the vocabulary (0 to ${vocabSize - 1})`,
          );
        }
      }
    }
    if (!Number.isInteger(posOffset) || posOffset < 0 || posOffset + T > nCtx) {
      throw new ModelError(
        "bad_input",
        `positions ${posOffset} to ${posOffset + T - 1} do not fit the model's context of ${nCtx} tokens`,
      );
    }
    return T;
  }

  private logitPositions(p: "all" | "last" | number[], T: number): number[] {
    if (p === "all") return Array.from({ length: T }, (_, i) => i);
    if (p === "last") return [T - 1];
    if (!Array.isArray(p) || p.length === 0) {
      throw new ModelError(
        "bad_input",
        `logitPositions must be "all", "last" or a non-empty array`,
      );
    }
    for (const i of p) {
      if (!Number.isInteger(i) || i < 0 || i >= T) {
        throw new ModelError("bad_input", `logit position ${i} is outside 0 to ${T - 1}`);
      }
    }
    return p;
  }
}
