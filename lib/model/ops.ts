/**
 * The block's elementwise and normalisation ops (lib/model/block.ts: every family, forward and
 * gradient passes alike). Written for few, cheap kernels on the wasm backend: x³ as x·x·x (wasm's Pow runs
 * element by element) and the tanh GELU as x·σ(2u) (tanh(u) = 2σ(2u) − 1; wasm's Sigmoid is an
 * XNNPACK kernel, its Tanh a scalar loop), equal to the tanh form within float32 rounding.
 * Each runs in its own tidy, so a block holds its inputs and outputs, not their intermediates
 * (the fast head sweep's wide passes peaked at 1.6 GiB with them). Gradients still flow: tfjs
 * keeps what the backward pass needs.
 */
import * as tf from "@tensorflow/tfjs";
import type { Activation } from "../load/model-config";

const GELU_C = Math.sqrt(2 / Math.PI);

/** Erf via Abramowitz–Stegun 7.1.26 (|error| ≤ 1.5e-7), for a backend without an Erf kernel. */
function erfApprox(x: tf.Tensor): tf.Tensor {
  const a = x.abs();
  const t = tf.scalar(1).div(a.mul(0.3275911).add(1));
  const poly = t
    .mul(1.061405429)
    .add(-1.453152027)
    .mul(t)
    .add(1.421413741)
    .mul(t)
    .add(-0.284496736)
    .mul(t)
    .add(0.254829592)
    .mul(t);
  return x.sign().mul(tf.scalar(1).sub(poly.mul(a.square().neg().exp())));
}

type GeluKind = Exclude<Activation, "silu">;

/** GELU: exact (erf) for "gelu"; otherwise gelu_new / gelu_pytorch_tanh (tanh approximation). */
export function gelu(x: tf.Tensor, kind: GeluKind): tf.Tensor {
  return tf.tidy(() => geluOps(x, kind)); // frees the [B, T, M] intermediates at once
}

/** SwiGLU's product silu(gate) · up = gate · σ(gate) · up. */
export function swiglu(gate: tf.Tensor, up: tf.Tensor): tf.Tensor {
  return tf.tidy(() => gate.mul(tf.sigmoid(gate)).mul(up));
}

function geluOps(x: tf.Tensor, kind: GeluKind): tf.Tensor {
  if (kind === "gelu") {
    const erf = tf.getKernel("Erf", tf.getBackend()) ? tf.erf : erfApprox;
    return x.mul(0.5).mul(erf(x.mul(Math.SQRT1_2)).add(1)); // 0.5 x (1 + erf(x / √2))
  }
  // 0.5 x (1 + tanh(u)) = x σ(2u), u = √(2/π) (x + 0.044715 x³) = x (√(2/π) + 0.044715 √(2/π) x²)
  const twoU = x
    .square()
    .mul(2 * 0.044715 * GELU_C)
    .add(2 * GELU_C)
    .mul(x);
  return x.mul(tf.sigmoid(twoU));
}

/** LayerNorm over the last axis with torch's biased variance. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const centred = x.sub(x.mean(-1, true));
    const variance = centred.square().mean(-1, true);
    return centred.mul(variance.add(eps).rsqrt()).mul(g).add(b);
  });
}

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · g. */
export function rmsNorm(x: tf.Tensor, g: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => x.mul(x.square().mean(-1, true).add(eps).rsqrt()).mul(g));
}

const masks = new Map<string, Float32Array>();

/**
 * The causal attention bias [1, 1, T, Tp + T] for T queries at absolute positions Tp … Tp + T − 1
 * over Tp + T keys: 0 where key j ≤ query, −1e9 after. The host array is cached per shape (a
 * cached tensor would outlive the callers' tidy scopes and count as a leak).
 */
export function causalBias(T: number, Tp: number): tf.Tensor4D {
  const Tk = Tp + T;
  const key = `${T},${Tp}`;
  let bias = masks.get(key);
  if (!bias) {
    bias = new Float32Array(T * Tk);
    for (let i = 0; i < T; i++) for (let j = Tp + i + 1; j < Tk; j++) bias[i * Tk + j] = -1e9;
    if (masks.size > 256) masks.clear();
    masks.set(key, bias);
  }
  return tf.tensor4d(bias, [1, 1, T, Tk]);
}

/**
 * k copies of x stacked along axis 0 ([n, …] → [k·n, …]), as x.tile([k, 1, …]) but through
 * Concat: tfjs-wasm's Tile computes every element's index in a scalar loop (28% of a bundled
 * model's trace), Concat copies contiguous blocks.
 */
export function repeatRows<T extends tf.Tensor>(x: T, k: number): T {
  if (k === 1) return x;
  return tf.concat(
    Array.from({ length: k }, () => x),
    0,
  ) as T;
}
