/**
 * Batching prompts of different lengths for a causal model: rows are right-padded (the padding
 * comes after every real token, so causal attention keeps it from changing any real position),
 * and per-row positions are picked with a one-hot matMul rather than a gather, whose gradient
 * needs UnsortedSegmentSum, a kernel the wasm backend lacks.
 */
import * as tf from "@tensorflow/tfjs";
import { baseOf, type ModelLike, viewOf } from "./apply";

export interface Padded {
  ids: number[][];
  lengths: number[];
  T: number;
}

export function padRows(rows: readonly number[][], pad = 0): Padded {
  const lengths = rows.map((r) => r.length);
  const T = Math.max(...lengths);
  return { ids: rows.map((r) => [...r, ...new Array(T - r.length).fill(pad)]), lengths, T };
}

/** One-hot selector [B, 1, T] (or [B, P, T] with several positions per row). */
export function selector(
  positions: readonly (number | readonly number[])[],
  T: number,
): tf.Tensor3D {
  const P = Math.max(...positions.map((p) => (typeof p === "number" ? 1 : p.length)));
  const sel = new Float32Array(positions.length * P * T);
  positions.forEach((p, b) => {
    const list = typeof p === "number" ? [p] : p;
    list.forEach((t, j) => {
      sel[(b * P + j) * T + t] = 1;
    });
  });
  return tf.tensor3d(sel, [positions.length, P, T]);
}

/** x[b, positions[b], :] for x [B, T, F] → [B, P, F] (differentiable on every backend). */
export function pickPositions(
  x: tf.Tensor,
  positions: readonly (number | readonly number[])[],
): tf.Tensor3D {
  const [B, T] = x.shape;
  const F = x.size / (B * T);
  return tf.matMul(selector(positions, T), x.reshape([B, T, F])); // [B, P, F]
}

/** Splits n rows into chunks whose B·T·width floats stay under a budget (default 2²⁴). */
export function chunks(n: number, T: number, width: number, budget = 1 << 24): [number, number][] {
  const per = Math.max(1, Math.floor(budget / Math.max(1, T * width)));
  const out: [number, number][] = [];
  for (let s = 0; s < n; s += per) out.push([s, Math.min(n, s + per)]);
  return out;
}

/** Row indices grouped by exact length, in first-seen order: each group runs unpadded. */
export function indicesByLength(lengths: readonly number[]): number[][] {
  const groups = new Map<number, number[]>();
  lengths.forEach((len, i) => {
    const g = groups.get(len);
    if (g) g.push(i);
    else groups.set(len, [i]);
  });
  return [...groups.values()];
}

/**
 * Row indices sorted by length and cut into groups whose padded [n, T, width] stays within
 * `budget` numbers: little padding and small batches (for tiny-facts' 100 general texts half the
 * CPU time of one padded batch).
 */
export function paddedLengthGroups(
  lengths: readonly number[],
  width: number,
  budget = 1 << 19,
): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[a] - lengths[b]);
  const groups: number[][] = [];
  for (const i of order) {
    const g = groups.at(-1);
    if (g && (g.length + 1) * lengths[i] * width <= budget) g.push(i);
    else groups.push([i]);
  }
  return groups;
}

/**
 * Activations at given hooks and per-row positions, read back to the host: result[hook][row] is
 * a Float32Array of P·F numbers (P positions of that row; F the hook's features, e.g. H·E for
 * hook_z). Rows are batched by right padding; the model's edits see each row's own length.
 */
export async function activationsAt(
  model: ModelLike,
  rows: readonly number[][],
  hooks: readonly string[],
  positions: readonly (readonly number[])[],
): Promise<Map<string, Float32Array[]>> {
  const out = new Map<string, Float32Array[]>(hooks.map((h) => [h, []]));
  const base = baseOf(model);
  const width = Math.max(base.config.dModel, base.config.dMlp) * hooks.length;
  const maxT = Math.max(...rows.map((r) => r.length));
  for (const [s, e] of chunks(rows.length, maxT, width, 1 << 22)) {
    const part = padRows(rows.slice(s, e));
    const pos = positions.slice(s, e);
    const m = viewOf(model, part.lengths);
    const picked = tf.tidy(() => {
      const { logits, activations } = m.forward({
        inputIds: part.ids,
        record: hooks,
        logitPositions: "last",
      });
      logits.dispose();
      return hooks.map((h) => pickPositions(activations.get(h)!, pos)); // [B, P, F]
    });
    try {
      for (let i = 0; i < hooks.length; i++) {
        const data = await picked[i].data();
        const [B, P, F] = picked[i].shape;
        const list = out.get(hooks[i])!;
        for (let b = 0; b < B; b++) {
          const n = pos[b].length;
          list.push(Float32Array.from(data.subarray(b * P * F, (b * P + n) * F)));
        }
      }
    } finally {
      tf.dispose(picked);
    }
  }
  return out;
}
