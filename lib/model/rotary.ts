/**
 * Rotary position embeddings as HF transformers computes them for Llama, Mistral, Qwen2 and
 * GPT-NeoX: inv_freq from rope_theta (default, `linear` and `llama3` scaling), and the
 * "rotate_half" layout, where feature i of a head pairs with feature i + R/2 (R = rotary dims)
 * and that pair turns by the angle position · inv_freq[i]. Features past R pass through
 * (NeoX's partial rotary).
 *
 * Positions are absolute: a forward that reuses cached keys must rotate its new queries and
 * keys by their true positions (prefix length + i), not from 0.
 */
import * as tf from "@tensorflow/tfjs";
import type { RopeConfig } from "../load/model-config";

/** inv_freq [R / 2], computed in float64 (HF computes in float32: ~1e-7 relative apart). */
export function invFreq(rope: RopeConfig): Float64Array {
  const R = rope.rotaryDim;
  const inv = new Float64Array(R / 2);
  for (let i = 0; i < R / 2; i++) inv[i] = rope.theta ** (-(2 * i) / R);
  const s = rope.scaling;
  if (s === null) return inv;
  if (s.kind === "linear") return inv.map((w) => w / s.factor);
  // llama3: wavelengths longer than original / low_freq_factor slow down by `factor`, shorter
  // than original / high_freq_factor stay, and the band between blends the two linearly in
  // original / wavelength.
  const lowWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highWavelen = s.originalMaxPositions / s.highFreqFactor;
  return inv.map((w) => {
    const wavelen = (2 * Math.PI) / w;
    if (wavelen < highWavelen) return w;
    if (wavelen > lowWavelen) return w / s.factor;
    const smooth =
      (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    return ((1 - smooth) * w) / s.factor + smooth * w;
  });
}

/** cos / sin of position · inv_freq, as [1, T, 1, R/2] tensors that broadcast over [B, T, H, R/2]. */
export interface RotaryTables {
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
}

/** cos / sin [T, R/2] of the given absolute positions, angles in float64, stored as float32. */
function hostTables(inv: Float64Array, positions: readonly number[]) {
  const half = inv.length;
  const T = positions.length;
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = positions[t] * inv[i];
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Tables for the given absolute positions. */
export function rotaryTables(inv: Float64Array, positions: readonly number[]): RotaryTables {
  const { cos, sin } = hostTables(inv, positions);
  const shape: [number, number, number, number] = [1, positions.length, 1, inv.length];
  return { cos: tf.tensor4d(cos, shape), sin: tf.tensor4d(sin, shape) };
}

/**
 * Rotary tables by window (offset, T), computed on the host once per window and model (a sweep
 * asks for the same few windows again and again); `tables` makes new tensors each call (the
 * caller's tidy frees them; a cached tensor would outlive it and count as a leak).
 */
export class RotaryCache {
  private readonly host = new Map<string, { cos: Float32Array; sin: Float32Array }>();

  constructor(private readonly inv: Float64Array) {}

  tables(offset: number, T: number): RotaryTables {
    const key = `${offset},${T}`;
    let hit = this.host.get(key);
    if (!hit) {
      hit = hostTables(
        this.inv,
        Array.from({ length: T }, (_, i) => offset + i),
      );
      if (this.host.size > 256) this.host.clear();
      this.host.set(key, hit);
    }
    const shape: [number, number, number, number] = [1, T, 1, this.inv.length];
    return { cos: tf.tensor4d(hit.cos, shape), sin: tf.tensor4d(hit.sin, shape) };
  }
}

/** x [B, T, H, E] → the same with its first R = 2 · (R/2) features of every head rotated. */
export function applyRotary(x: tf.Tensor4D, tables: RotaryTables): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, T, H, E] = x.shape;
    const half = tables.cos.shape[3];
    const x1 = x.slice([0, 0, 0, 0], [B, T, H, half]); // [B, T, H, R/2]
    const x2 = x.slice([0, 0, 0, half], [B, T, H, half]);
    const r1 = tf.sub(tf.mul(x1, tables.cos), tf.mul(x2, tables.sin));
    const r2 = tf.add(tf.mul(x2, tables.cos), tf.mul(x1, tables.sin));
    if (2 * half === E) return tf.concat([r1, r2], 3) as tf.Tensor4D;
    const rest = x.slice([0, 0, 0, 2 * half], [B, T, H, E - 2 * half]); // passes through
    return tf.concat([r1, r2, rest], 3) as tf.Tensor4D;
  });
}
