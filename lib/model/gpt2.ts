/**
 * The hooked model of every family (GPT-2, Llama / Mistral / Qwen2, GPT-NeoX), with
 * TransformerLens hook points (lib/model/hooks.ts). The name is GPT-2's for history: the class
 * holds uploaded weights and a BlockSpec, and every block is lib/model/block.ts's runBlock.
 *
 * Everything here builds a tfjs graph synchronously and never reads from the device: callers
 * own the tensors they get back and dispose them; intermediates are freed by tf.tidy.
 *
 * The pass is three public building blocks that `forward` composes, so a tracing engine can
 * restart from any layer with its own residual stream and reuse a prefix's keys/values:
 *   embed(ids, {posOffset})         → resid [B, T, D] for positions [posOffset, posOffset + T)
 *   block(l, resid, {past})         → resid, plus this block's own K/V for resid's positions
 *   unembed(resid, positions)       → logits [B, P, V]
 * Shapes: B batch, T positions, D d_model, H heads, Hkv K/V heads, E head width, V vocabulary.
 */
import * as tf from "@tensorflow/tfjs";
import type { HubWeights } from "../load/family-checkpoint";
import { attnDims, type ModelConfig } from "../load/model-config";
import type { Gpt2Weights } from "../load/types";
import { type BlockSpec, blockSpecOf, runBlock } from "./block";
import { ModelError } from "./errors";
import { uploadHubWeights } from "./family-weights";
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
import { type UploadedWeights, uploadWeights } from "./gpt2-weights";
import { type HookOptions, HookPlan, type ModelIntervention, type PlanDims } from "./hook-plan";
import { modelHookNames } from "./hooks";
import { layerNorm, repeatRows, rmsNorm } from "./ops";
import { invFreq, RotaryCache } from "./rotary";

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

/** A checkpoint as read: GPT-2's structured weights, or a rotary family's by hub name. */
export type ModelWeights = Gpt2Weights | HubWeights;

/** Gpt2Model.finalNorm(): the final norm's kind, weight [D], bias [D] (LayerNorm only) and ε. */
export interface FinalNorm {
  kind: "layer" | "rms";
  weight: tf.Tensor1D;
  bias: tf.Tensor1D | undefined;
  eps: number;
}

function toRecord(acts: Record<string, tf.Tensor>): Map<string, tf.Tensor> {
  return new Map(Object.entries(acts));
}

export class Gpt2Model {
  readonly nParams: number;
  readonly hookNames: readonly string[];
  /** What the family's block does (lib/model/block.ts). */
  readonly spec: BlockSpec;
  /**
   * The unembedding stored transposed, [D, V]: x @ headT is then a plain matMul, which tfjs-wasm
   * sends to XNNPACK (a transposed operand falls into a scalar loop, 2.3× slower on a whole
   * GPT-2-small trace). Tied models gather their embedding from its columns (one copy).
   */
  private readonly headT: tf.Tensor2D; // [D, V]
  private readonly wte: tf.Tensor2D | undefined; // [V, D], untied models only
  private readonly wpe: tf.Tensor2D | undefined; // [nCtx, D], GPT-2 only
  private readonly blocks: BlockTensors[];
  private readonly lnFg: tf.Tensor1D;
  private readonly lnFb: tf.Tensor1D | undefined;
  private readonly rotary: RotaryCache | null;
  private disposed = false;
  /** Set on views made by withOverrides: interventions prepended to every pass. */
  private baseInterventions: readonly ModelIntervention[] = [];
  /** A view shares its parent's tensors and never disposes them. */
  private isView = false;
  /** The loaded model this is a view of (itself when not a view); copied to views by withOverrides. */
  private rootModel: Gpt2Model = this;
  /** Run once when the root is disposed (shared with views by reference: register through root). */
  private disposeHooks: (() => void)[] = [];

  private constructor(
    readonly config: ModelConfig,
    w: UploadedWeights,
  ) {
    this.headT = w.headT;
    this.wte = w.wte;
    this.wpe = w.wpe;
    this.blocks = w.blocks;
    this.lnFg = w.lnFg;
    this.lnFb = w.lnFb;
    this.nParams = w.nParams;
    this.spec = blockSpecOf(config);
    this.rotary = config.rope ? new RotaryCache(invFreq(config.rope)) : null;
    this.hookNames = modelHookNames(config);
  }

  /**
   * Checks every weight's shape against the config and uploads it to the current backend once:
   * GPT-2's structured weights, or a rotary family's by hub name (lib/load/family-checkpoint.ts).
   */
  static fromWeights(config: ModelConfig, weights: ModelWeights): Gpt2Model {
    if ("hub" in weights) return new Gpt2Model(config, uploadHubWeights(config, weights.hub));
    if (config.modelType !== "gpt2") {
      throw new ModelError("bad_weights", `${config.modelType} weights must come by hub name`);
    }
    return new Gpt2Model(config, uploadWeights(config, weights));
  }

  /** The plan's dimensions: hook names, query and K/V heads, context. */
  private planDims(): PlanDims {
    const { nLayer, nHead, nCtx } = this.config;
    return { nLayer, nHead, nCtx, nKvHead: this.spec.Hkv, hookNames: this.hookNames };
  }

  /** A validated hook plan (recording + interventions) for embed/block/unembed. */
  hooks(opts: HookOptions = {}): HookPlan {
    if (this.baseInterventions.length === 0) return new HookPlan(this.planDims(), opts);
    const interventions = [...this.baseInterventions, ...(opts.interventions ?? [])];
    return new HookPlan(this.planDims(), { ...opts, interventions });
  }

  /** A block weight as held on the device (do not dispose it). */
  blockWeight(layer: number, name: BlockWeightName): tf.Tensor {
    const b = this.blocks[layer];
    const w = b?.[name];
    if (!w) throw new ModelError("bad_input", `no weight ${name} in layer ${layer}`);
    return w;
  }

  /**
   * The final norm as held on the device (not copies: do not dispose): LayerNorm
   * (x − mean x)/√(var x + ε)·weight + bias, or RMSNorm x/√(mean x² + ε)·weight (bias undefined).
   */
  finalNorm(): FinalNorm {
    const { norm: kind, eps } = this.spec;
    return { kind, weight: this.lnFg, bias: this.lnFb, eps };
  }

  /** The unembedding [D, V] as held on the device (lm_head, or the tied embedding; do not dispose). */
  unembedding(): tf.Tensor2D {
    return this.headT;
  }

  /**
   * The loaded model this is a view of, or this model itself: caches of statistics of the
   * unedited model (ROME's C, context templates) are keyed by it so that every view shares them.
   */
  get root(): Gpt2Model {
    return this.rootModel;
  }

  /** Runs `f` when the root model is disposed (caches keyed by it drop their entries). */
  onRootDispose(f: () => void): void {
    this.rootModel.disposeHooks.push(f);
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
    new HookPlan(this.planDims(), { interventions: baseInterventions }); // validate now
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
      const L = this.config.nLayer;
      // the last block computes only the positions the logits read, unless something records
      // there or an intervention there selects every position (its value may be whole-pass shaped)
      const last = `blocks.${L - 1}.`;
      const trim =
        ![...hooks.record].some((n) => n.startsWith(last) || n.startsWith("ln_final")) &&
        !hooks.coversAllPositions(last) &&
        !hooks.coversAllPositions("ln_final");
      const from = trim ? Math.min(...positions) : 0;
      for (let l = 0; l < L; l++) {
        const b = this.block(l, resid, { hooks, outFrom: l === L - 1 ? from : 0 });
        take(b.activations);
        resid = b.resid;
      }
      const at = positions.map((p) => p - from);
      const u = this.unembed(resid, at, { hooks, posOffset: from });
      take(u.activations);
      return { logits: u.logits, acts };
    });
    return { logits: out.logits, activations: toRecord(out.acts) };
  }

  /** Token embeddings (hook_embed), plus learned positions (hook_pos_embed, GPT-2) → resid [B, T, D]. */
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
      let tok = this.wte
        ? this.wte
            .gather(ids)
            .reshape([B, T, D]) // [V, D] rows → [B, T, D]
        : this.headT.gather(ids, 1).transpose().reshape([B, T, D]); // [D, B*T] → [B, T, D]
      tok = hooks.apply("hook_embed", tok, off, acts, inputIds); // ids: match_add (SWEA)
      if (!this.wpe) return { resid: tok as tf.Tensor3D, acts };
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
    const { dModel: D, nCtx } = this.config;
    const { Hkv, E } = attnDims(this.config);
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.config.nLayer) {
      throw new ModelError(
        "bad_input",
        `layer ${layer} does not exist (0 to ${this.config.nLayer - 1})`,
      );
    }
    const [B, T, Dr] = resid.shape;
    if (Dr !== D) throw new ModelError("bad_input", `resid has width ${Dr}, d_model is ${D}`);
    const past = opts.past;
    const Tp = past ? past.k.shape[2] : 0;
    if (past) {
      const ok = (t: tf.Tensor4D) =>
        (t.shape[0] === B || t.shape[0] === 1) &&
        t.shape[1] === Hkv &&
        t.shape[2] === Tp &&
        t.shape[3] === E;
      if (!ok(past.k) || !ok(past.v)) {
        throw new ModelError(
          "bad_input",
          `past keys/values have shapes [${past.k.shape}] / [${past.v.shape}], expected [${B} or 1, ${Hkv}, Tpast, ${E}]`,
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
    const out = tf.tidy(() => {
      const acts: Record<string, tf.Tensor> = {};
      const rotary = this.rotary?.tables(Tp, T);
      const run = { layer, hooks, past, rotary, acts, linear: opts.linear, outFrom: opts.outFrom };
      const b = runBlock(this.spec, this.blocks[layer], resid, run);
      return { ...b, acts };
    });
    return { resid: out.resid, kv: { k: out.k, v: out.v }, activations: toRecord(out.acts) };
  }

  /**
   * Final norm (ln_final.hook_normalized, all positions) and the unembedding at `positions`
   * (indices into resid's T axis), or at each row's own positions (opts.select) → logits [B, P, V].
   */
  unembed(
    resid: tf.Tensor3D,
    positions: "all" | "last" | number[],
    opts: UnembedOptions = {},
  ): { logits: tf.Tensor3D; activations: Map<string, tf.Tensor> } {
    const [B, T, D] = resid.shape;
    const pos = this.logitPositions(positions, T);
    const sel = opts.select;
    if (sel && (positions !== "all" || sel.shape[0] !== B || sel.shape[2] !== T)) {
      throw new ModelError("bad_input", `select must be [${B}, P, ${T}] with positions "all"`);
    }
    const hooks = opts.hooks ?? this.hooks();
    const eps = this.config.layerNormEps;
    const out = tf.tidy(() => {
      const acts: Record<string, tf.Tensor> = {};
      let normed =
        this.spec.norm === "rms"
          ? rmsNorm(resid, this.lnFg, eps)
          : layerNorm(resid, this.lnFg, this.lnFb!, eps); // [B, T, D]
      normed = hooks.apply("ln_final.hook_normalized", normed, opts.posOffset ?? 0, acts);
      const identity = pos.length === T && pos.every((p, i) => p === i);
      const picked = sel
        ? tf.matMul(sel, normed) // [B, P, T] @ [B, T, D]
        : identity
          ? normed
          : normed.gather(tf.tensor1d(Int32Array.from(pos), "int32"), 1); // [B, P, D]
      const P = sel ? sel.shape[1] : pos.length;
      const logits = tf
        .matMul(picked.reshape([B * P, D]), this.headT) // [B*P, V]
        .reshape([B, P, this.config.vocabSize]) as tf.Tensor3D; // [B, P, V]
      return { logits, acts };
    });
    return { logits: out.logits, activations: toRecord(out.acts) };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.isView) return;
    for (const f of this.disposeHooks.splice(0)) f();
    const all: (tf.Tensor | undefined)[] = [this.headT, this.wte, this.wpe, this.lnFg, this.lnFb];
    for (const b of this.blocks) all.push(...Object.values(b));
    tf.dispose(all.filter((t): t is tf.Tensor => t !== undefined));
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
