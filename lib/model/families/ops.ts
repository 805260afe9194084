/**
 * The pieces the Llama and GPT-NeoX forwards share: input checks, the hook recorder, nn.Linear,
 * the two norms, and rotary causal attention with grouped K/V heads. Callers run these inside
 * tf.tidy; recorded activations are kept (tf.keep) and belong to the caller.
 */
import * as tf from "@tensorflow/tfjs";
import type { HostTensor } from "../../load/types";
import { ModelError } from "../errors";
import type { FamilyConfig } from "./config";
import { type FamilyHookName, familyHookNames } from "./hooks";
import type { FamilyForward, ForwardArgs } from "./model";
import { applyRotary, invFreq, type RotaryTables, rotaryTables } from "./rotary";

/** Validates token ids; returns [B, T]. */
export function checkIds(ids: number[][], vocabSize: number, nCtx: number): [number, number] {
  const B = ids.length;
  const T = B > 0 ? ids[0].length : 0;
  if (B === 0 || T === 0) throw new ModelError("bad_input", "inputIds is empty");
  if (T > nCtx) throw new ModelError("bad_input", `${T} tokens exceed the context of ${nCtx}`);
  for (const [r, row] of ids.entries()) {
    if (row.length !== T) {
      throw new ModelError("bad_input", `row ${r} has ${row.length} tokens, row 0 has ${T}`);
    }
    for (const id of row) {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new ModelError(
          "bad_input",
          `token id ${id} in row ${r} is outside [0, ${vocabSize})`,
        );
      }
    }
  }
  return [B, T];
}

/** embed [V, D] rows for ids [B][T] → [B, T, D]. */
export function embedTokens(embed: tf.Tensor2D, ids: number[][]): tf.Tensor3D {
  const [B, T] = [ids.length, ids[0].length];
  const flat = tf.tensor1d(ids.flat(), "int32");
  return tf.reshape(tf.gather(embed, flat), [B, T, embed.shape[1]]) as tf.Tensor3D;
}

/** Keeps the activations of the hooks asked for; every hook passes its tensor through. */
export class Recorder {
  readonly activations = new Map<string, tf.Tensor>();
  private readonly want: Set<string>;

  constructor(known: readonly FamilyHookName[], record: readonly string[] = []) {
    const names = new Set<string>(known);
    for (const r of record) {
      if (!names.has(r)) throw new ModelError("unknown_hook", `this model has no hook ${r}`);
    }
    this.want = new Set(record);
  }

  hook = <T extends tf.Tensor>(name: FamilyHookName, t: T): T => {
    if (this.want.has(name)) this.activations.set(name, tf.keep(t.clone()));
    return t;
  };

  dispose(): void {
    tf.dispose([...this.activations.values()]);
    this.activations.clear();
  }
}

/**
 * nn.Linear with its weight stored transposed: x [B, T, In] · wT [In, Out] (+ b [Out]).
 * Weights are transposed once at upload because wasm's matMul is many times slower with a
 * transposed operand (lib/edit/grad-blocks.ts); that also keeps away from tf.fused.matMul with
 * transposeB and a bias, which adds the bias wrongly on wasm in tfjs 4.22.
 */
export function linear(x: tf.Tensor3D, wT: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor3D {
  const [B, T, In] = x.shape;
  const y = tf.fused.matMul({ a: x.reshape([B * T, In]), b: wT, bias: b }); // [B*T, Out]
  return y.reshape([B, T, wT.shape[1]]);
}

/** x / sqrt(mean(x²) + eps) · w over the last axis. */
export function rmsNorm(x: tf.Tensor3D, w: tf.Tensor1D, eps: number): tf.Tensor3D {
  const ms = tf.mean(tf.square(x), -1, true); // [B, T, 1]
  return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), w);
}

/** (x − mean) / sqrt(var + eps) · g + b over the last axis (biased variance, as torch). */
export function layerNorm(
  x: tf.Tensor3D,
  g: tf.Tensor1D,
  b: tf.Tensor1D,
  eps: number,
): tf.Tensor3D {
  const { mean, variance } = tf.moments(x, -1, true); // [B, T, 1]
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
}

export interface AttentionArgs {
  layer: number;
  q: tf.Tensor4D; // [B, T, H, E]
  k: tf.Tensor4D; // [B, T, Hkv, E]
  v: tf.Tensor4D; // [B, T, Hkv, E]
  tables: RotaryTables; // for positions 0..T-1
  hook: Recorder["hook"];
}

/**
 * Causal attention with rotary q/k; query head h reads K/V head floor(h / (H / Hkv)).
 * Fires hook_q/k/v, hook_rot_q/k, hook_pattern and hook_z; returns z merged, [B, T, H·E].
 */
export function rotaryAttention({ layer, q, k, v, tables, hook }: AttentionArgs): tf.Tensor3D {
  const n = (h: "q" | "k" | "v" | "rot_q" | "rot_k" | "pattern" | "z") =>
    `blocks.${layer}.attn.hook_${h}` as const;
  const [B, T, H, E] = q.shape;
  const Hkv = k.shape[2];
  q = hook(n("q"), q);
  k = hook(n("k"), k);
  v = hook(n("v"), v);
  q = hook(n("rot_q"), applyRotary(q, tables));
  k = hook(n("rot_k"), applyRotary(k, tables));
  const perHead = (x: tf.Tensor4D) => {
    // [B, T, Hkv, E] → [B, H, T, E], each K/V head repeated for its H / Hkv query heads
    const rep = H / Hkv;
    const full = rep === 1 ? x : x.reshape([B, T, Hkv, 1, E]).tile([1, 1, 1, rep, 1]);
    return full.reshape([B, T, H, E]).transpose([0, 2, 1, 3]);
  };
  const mask = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
  const scores = tf
    .matMul(q.transpose([0, 2, 1, 3]), perHead(k), false, true) // [B, H, T, T]
    .mul(1 / Math.sqrt(E))
    .add(tf.tensor2d(mask, [T, T]));
  const pattern = hook(n("pattern"), tf.softmax(scores) as tf.Tensor4D); // [B, H, Tq, Tk]
  const z = hook(n("z"), tf.matMul(pattern, perHead(v)).transpose([0, 2, 1, 3]) as tf.Tensor4D);
  return z.reshape([B, T, H * E]);
}

export interface ForwardSetup {
  hookNames: readonly FamilyHookName[];
  vocabSize: number;
  nCtx: number;
  inv: Float64Array; // rotary inv_freq
}

export function forwardSetup(config: FamilyConfig): ForwardSetup {
  const { vocabSize, nCtx } = config;
  return { hookNames: familyHookNames(config), vocabSize, nCtx, inv: invFreq(config.rope) };
}

export interface ForwardContext {
  B: number;
  T: number;
  hook: Recorder["hook"];
  tables: RotaryTables; // positions 0..T-1
}

/**
 * Checks the ids, runs `body` in a tidy with a recorder and rotary tables, and hands back the
 * logits and the recorded activations (freed again if `body` throws).
 */
export function runForward(
  setup: ForwardSetup,
  { inputIds, record }: ForwardArgs,
  body: (ctx: ForwardContext) => tf.Tensor3D,
): FamilyForward {
  const [B, T] = checkIds(inputIds, setup.vocabSize, setup.nCtx);
  const rec = new Recorder(setup.hookNames, record);
  try {
    const logits = tf.tidy(() => {
      const positions = Array.from({ length: T }, (_, i) => i);
      return body({ B, T, hook: rec.hook, tables: rotaryTables(setup.inv, positions) });
    });
    return { logits, activations: rec.activations };
  } catch (e) {
    rec.dispose();
    throw e;
  }
}

/** An nn.Linear weight [Out, In] uploaded once as its transpose [In, Out], kept. */
export function uploadT(t: HostTensor): tf.Tensor2D {
  const [rows, cols] = t.shape;
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c];
  return tf.keep(tf.tensor2d(out, [cols, rows]));
}

/** A 1-D or 2-D weight uploaded once, kept outside any tidy. */
export function upload<R extends tf.Rank.R1 | tf.Rank.R2>(t: HostTensor): tf.Tensor<R> {
  return tf.keep(tf.tensor(t.data, t.shape, "float32")) as unknown as tf.Tensor<R>;
}
