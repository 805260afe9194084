/**
 * A validated plan of what happens at each hook point during one pass: which activations to
 * record and which interventions (lib/model/intervention.ts) to apply, in list order.
 *
 * Applying an intervention is pure tensor arithmetic with host-built masks, so it runs the same
 * on every backend and never reads from the GPU:
 *   zero     x · keep                     keep = 1 − mask
 *   scale    x · (1 + (s − 1) · mask)
 *   add      x + delta
 *   replace  x · keep + delta
 *   loreft   x + mask · (x (W − R)ᵀ + b) R      (h + Rᵀ(W h + b − R h) on selected cells)
 * where mask is 1 on the selected (row, position[, head]) cells, and delta is the value
 * broadcast over the selection (a [F] value) or broadcast to the selection's shape and scattered
 * into x's shape by gathers from a zero-padded copy (unselected cells pick the zero pad).
 *
 * Positions are absolute token positions. A pass over positions [offset, offset + T) (a block
 * run with cached keys/values for the first `offset` positions) applies an intervention only
 * where its positions fall in that window, so one plan serves a prefix run and the runs that
 * reuse its cache. Positions outside every window are caught by check(), which forward calls.
 */
import * as tf from "@tensorflow/tfjs";
import { ModelError } from "./errors";
import { hookNames } from "./hooks";
import type { Intervention, InterventionOp, LoreftValue } from "./intervention";
import { matchSelector } from "./token-match";

/**
 * An intervention whose replace/add value, or LoReFT's R, W, b, may also be tensors already on
 * the device (training passes tf.Variables, so gradients flow into them).
 */
export interface ModelIntervention extends Omit<Intervention, "value" | "loreft"> {
  value?: Intervention["value"] | tf.Tensor;
  loreft?: LoreftValue<Float32Array | number[] | tf.Tensor>;
}

/** What to record and change during a pass. */
export interface HookOptions {
  interventions?: readonly ModelIntervention[];
  /** Hook names whose activations (after that hook's interventions) are returned. */
  record?: readonly string[];
}

/**
 * How an activation is laid out: btf = [B, T, F] (resid, embeds, attn/mlp out, mlp pre/post);
 * bthe = [B, T, H, E] (q, k, v, z); bhqk = [B, H, Tq, Tk] (pattern; positions are queries).
 */
export type HookLayout = "btf" | "bthe" | "bhqk";

export function hookLayout(name: string): HookLayout {
  if (name.endsWith("attn.hook_pattern")) return "bhqk";
  if (/attn\.hook_(q|k|v|z|rot_q|rot_k)$/.test(name)) return "bthe";
  return "btf";
}

/** K/V hooks have the model's K/V heads (fewer than its query heads under GQA). */
const isKvHook = (name: string) => /attn\.hook_(k|v|rot_k)$/.test(name);

/** What a plan is checked against: the model's hooks (default GPT-2's) and head counts. */
export interface PlanDims {
  nLayer: number;
  nHead: number;
  nCtx: number;
  /** K/V heads (default nHead). */
  nKvHead?: number;
  /** Every hook the model fires (default GPT-2's list for nLayer). */
  hookNames?: readonly string[];
}

const OPS: readonly InterventionOp[] = ["replace", "add", "scale", "zero", "loreft", "match_add"];

const range = (n: number, start = 0) => Array.from({ length: n }, (_, i) => start + i);

function describe(iv: ModelIntervention, i: number): string {
  return `intervention ${i} (${iv.op} at ${iv.hook})`;
}

function checkIndexList(
  list: readonly number[] | undefined,
  what: string,
  limit: number,
  where: string,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ModelError("bad_intervention", `${where}: ${what} must be a non-empty array`);
  }
  const seen = new Set<number>();
  for (const v of list) {
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new ModelError(
        "bad_intervention",
        `${where}: ${what} ${v} is out of range (0 to ${limit - 1})`,
      );
    }
    if (seen.has(v)) throw new ModelError("bad_intervention", `${where}: ${what} ${v} is repeated`);
    seen.add(v);
  }
}

/** map[i] = index of i in `list` (after subtracting offset), or list.length where unselected. */
function indexMap(n: number, list: readonly number[], offset: number): Int32Array {
  const map = new Int32Array(n).fill(list.length);
  list.forEach((v, j) => {
    const i = v - offset;
    if (i >= 0 && i < n) map[i] = j;
  });
  return map;
}

export class HookPlan {
  readonly record: ReadonlySet<string>;
  private readonly byHook = new Map<string, ModelIntervention[]>();

  /** Validates names, ops and static index ranges against the model's shape. */
  constructor(dims: PlanDims, opts: HookOptions = {}) {
    const known = new Set(dims.hookNames ?? hookNames(dims.nLayer));
    for (const name of opts.record ?? []) {
      if (!known.has(name)) {
        throw new ModelError("unknown_hook", `cannot record "${name}": no such hook point`);
      }
    }
    this.record = new Set(opts.record ?? []);
    (opts.interventions ?? []).forEach((iv, i) => {
      const where = describe(iv, i);
      if (!known.has(iv.hook)) {
        throw new ModelError("unknown_hook", `${where}: no such hook point`);
      }
      if (!OPS.includes(iv.op)) {
        throw new ModelError("bad_intervention", `${where}: op must be one of ${OPS.join(", ")}`);
      }
      checkIndexList(iv.batchIndex, "batch index", Number.MAX_SAFE_INTEGER, where);
      checkIndexList(iv.positions, "position", dims.nCtx, where);
      if (iv.heads !== undefined && hookLayout(iv.hook) === "btf") {
        throw new ModelError(
          "bad_intervention",
          `${where}: heads apply only to q, k, v, rot_q, rot_k, z, pattern`,
        );
      }
      const nKv = dims.nKvHead ?? dims.nHead;
      const kv = isKvHook(iv.hook) && nKv !== dims.nHead; // GQA: say which heads are counted
      checkIndexList(iv.heads, kv ? "K/V head" : "head", kv ? nKv : dims.nHead, where);
      const v = iv.value;
      if (iv.op === "scale" && (typeof v !== "number" || !Number.isFinite(v))) {
        throw new ModelError("bad_intervention", `${where}: scale needs a finite number as value`);
      }
      if (iv.op === "add" || iv.op === "replace") {
        const ok =
          v instanceof tf.Tensor
            ? v.size > 0
            : (Array.isArray(v) || v instanceof Float32Array) && v.length > 0;
        if (!ok) {
          throw new ModelError(
            "bad_intervention",
            `${where}: ${iv.op} needs a non-empty array or tensor value`,
          );
        }
      }
      if (iv.op === "loreft") checkLoreft(iv, where);
      if (iv.op === "match_add") checkMatches(iv, where);
      const list = this.byHook.get(iv.hook) ?? [];
      list.push(iv);
      this.byHook.set(iv.hook, list);
    });
  }

  /**
   * Whether an intervention at a hook named `prefix`… selects every position (no positions list):
   * its value may then be shaped for the whole pass, so that hook must see every position.
   */
  coversAllPositions(prefix: string): boolean {
    for (const [name, ivs] of this.byHook) {
      if (name.startsWith(prefix) && ivs.some((iv) => iv.positions === undefined)) return true;
    }
    return false;
  }

  /** Checks every intervention's rows and positions against a whole pass of [batch, seqLen]. */
  check(batch: number, seqLen: number): void {
    for (const ivs of this.byHook.values()) {
      for (const iv of ivs) {
        const where = `${iv.op} at ${iv.hook}`;
        const r = iv.batchIndex?.find((i) => i >= batch);
        if (r !== undefined) {
          throw new ModelError(
            "bad_intervention",
            `${where}: batch index ${r} ≥ batch size ${batch}`,
          );
        }
        const p = iv.positions?.find((i) => i >= seqLen);
        if (p !== undefined) {
          throw new ModelError(
            "bad_intervention",
            `${where}: position ${p} ≥ sequence length ${seqLen}`,
          );
        }
      }
    }
  }

  /**
   * Applies the hook's interventions to x (positions [posOffset, posOffset + T)) and records the
   * result into `out` if asked. Returns x itself when nothing applies. Call inside tf.tidy.
   */
  apply(
    name: string,
    x: tf.Tensor,
    posOffset: number,
    out: Record<string, tf.Tensor>,
    /** The pass's token ids (hook_embed): what match_add looks its keys up in. */
    ids?: readonly (readonly number[])[],
  ): tf.Tensor {
    const ivs = this.byHook.get(name);
    if (ivs) {
      ivs.forEach((iv) => {
        x =
          iv.op === "match_add"
            ? applyMatches(x, iv, ids)
            : applyOne(x, iv, hookLayout(name), posOffset);
      });
    }
    // a clone, so that no recorded tensor aliases another (or the caller's input)
    if (this.record.has(name)) out[name] = x.clone();
    return x;
  }
}

const sizeOf = (v: Float32Array | number[] | tf.Tensor) =>
  v instanceof tf.Tensor ? v.size : Array.isArray(v) || v instanceof Float32Array ? v.length : -1;

/** LoReFT needs a btf hook and R, W of r×F numbers, b of r (F is checked when applied). */
function checkLoreft(iv: ModelIntervention, where: string): void {
  if (hookLayout(iv.hook) !== "btf") {
    throw new ModelError("bad_intervention", `${where}: loreft applies only to [B, T, F] hooks`);
  }
  const p = iv.loreft;
  if (!p) throw new ModelError("bad_intervention", `${where}: loreft needs {R, W, b}`);
  const r = sizeOf(p.b);
  if (!(r > 0) || sizeOf(p.R) <= 0 || sizeOf(p.R) !== sizeOf(p.W) || sizeOf(p.R) % r !== 0) {
    throw new ModelError(
      "bad_intervention",
      `${where}: loreft needs b of r numbers and R, W of r × F numbers each`,
    );
  }
}

/** match_add: hook_embed only, a non-empty list of keys of ≥ 1 token ids with P·F values. */
function checkMatches(iv: ModelIntervention, where: string): void {
  if (iv.hook !== "hook_embed") {
    throw new ModelError("bad_intervention", `${where}: match_add applies only at hook_embed`);
  }
  const m = iv.matches;
  if (!Array.isArray(m) || m.length === 0) {
    throw new ModelError("bad_intervention", `${where}: match_add needs a non-empty matches list`);
  }
  m.forEach((k, i) => {
    const n = k.tokens?.length ?? 0;
    if (n === 0 || !k.tokens.every((t) => Number.isInteger(t) && t >= 0)) {
      throw new ModelError("bad_intervention", `${where}: matches[${i}] needs token ids`);
    }
    if (!(sizeOf(k.value) > 0) || sizeOf(k.value) % n !== 0) {
      throw new ModelError(
        "bad_intervention",
        `${where}: matches[${i}] needs P × F values for its ${n} tokens`,
      );
    }
  });
}

/** x [B, T, F] + S @ V: every key's offsets [P, F] at each occurrence of its tokens in `ids`. */
function applyMatches(
  x: tf.Tensor,
  iv: ModelIntervention,
  ids: readonly (readonly number[])[] | undefined,
): tf.Tensor {
  const where = `match_add at ${iv.hook}`;
  const [B, T, F] = x.shape as number[];
  if (!ids || ids.length !== B || ids.some((r) => r.length !== T)) {
    throw new ModelError("bad_intervention", `${where}: needs the pass's [${B}, ${T}] token ids`);
  }
  const m = iv.matches!;
  const { sel, N, count } = matchSelector(
    ids,
    m.map((k) => k.tokens),
  );
  if (count === 0) return x;
  const rows = new Float32Array(N * F); // the keys' offsets stacked: [N, F]
  let at = 0;
  m.forEach((k, i) => {
    if (sizeOf(k.value) !== k.tokens.length * F) {
      throw new ModelError(
        "bad_intervention",
        `${where}: matches[${i}] has ${sizeOf(k.value)} values, expected ${k.tokens.length} × ${F}`,
      );
    }
    rows.set(k.value as ArrayLike<number>, at);
    at += k.tokens.length * F;
  });
  const delta = tf.matMul(tf.tensor2d(sel, [B * T, N]), tf.tensor2d(rows, [N, F])); // [B*T, F]
  return x.add(delta.reshape([B, T, F]));
}

const asTensor = (v: Float32Array | number[] | tf.Tensor, shape: number[]) =>
  v instanceof tf.Tensor ? v.reshape(shape) : tf.tensor(Float32Array.from(v), shape);

/** x + mask · (x (W − R)ᵀ + b) R for x [B, T, F], mask [B, T, 1]. */
function applyLoreft(x: tf.Tensor, mask: tf.Tensor, iv: ModelIntervention): tf.Tensor {
  const [B, T, F] = x.shape as number[];
  const p = iv.loreft!;
  const r = sizeOf(p.b);
  if (sizeOf(p.R) !== r * F) {
    throw new ModelError(
      "bad_intervention",
      `loreft at ${iv.hook}: R has ${sizeOf(p.R)} numbers, expected r × F = ${r} × ${F}`,
    );
  }
  const R = asTensor(p.R, [r, F]); // [r, F]
  const W = asTensor(p.W, [r, F]); // [r, F]
  const b = asTensor(p.b, [r]); // [r]
  const x2 = x.reshape([B * T, F]);
  const proj = tf.matMul(x2, W.sub(R), false, true).add(b); // W h + b − R h: [B*T, r]
  const delta = tf.matMul(proj, R).reshape([B, T, F]); // Rᵀ(…) for every cell: [B, T, F]
  return x.add(delta.mul(mask));
}

function applyOne(x: tf.Tensor, iv: ModelIntervention, layout: HookLayout, posOffset: number) {
  const s = x.shape as number[];
  const B = s[0];
  const T = layout === "bhqk" ? s[2] : s[1];
  const H = layout === "bthe" ? s[2] : layout === "bhqk" ? s[1] : 1;
  const F = s[s.length - 1];
  const where = `${iv.op} at ${iv.hook}`;
  const rows = iv.batchIndex ?? range(B);
  const positions = iv.positions ?? range(T, posOffset);
  const heads = layout === "btf" ? [0] : (iv.heads ?? range(H));
  for (const r of rows) {
    if (r >= B)
      throw new ModelError("bad_intervention", `${where}: batch index ${r} ≥ batch size ${B}`);
  }
  const rowMap = indexMap(B, rows, 0);
  const posMap = indexMap(T, positions, posOffset);
  const headMap = indexMap(H, heads, 0);
  if (posMap.every((j) => j === positions.length)) return x; // no selected position in this window

  // mask: 1 on selected cells; shape [B, T, 1] | [B, T, H, 1] | [B, H, T, 1]
  const mask = new Float32Array(B * T * H);
  for (let b = 0; b < B; b++) {
    if (rowMap[b] === rows.length) continue;
    for (let t = 0; t < T; t++) {
      if (posMap[t] === positions.length) continue;
      for (let h = 0; h < H; h++) {
        if (headMap[h] === heads.length) continue;
        mask[layout === "bhqk" ? (b * H + h) * T + t : (b * T + t) * H + h] = 1;
      }
    }
  }
  const maskShape = layout === "btf" ? [B, T, 1] : layout === "bthe" ? [B, T, H, 1] : [B, H, T, 1];
  const keep = () =>
    tf.tensor(
      mask.map((m) => 1 - m),
      maskShape,
    );

  if (iv.op === "zero") return x.mul(keep());
  if (iv.op === "loreft") return applyLoreft(x, tf.tensor(mask, maskShape), iv);
  if (iv.op === "scale") {
    const k = iv.value as number;
    return x.mul(
      tf.tensor(
        mask.map((m) => (m ? k : 1)),
        maskShape,
      ),
    );
  }

  const raw = iv.value as NonNullable<ModelIntervention["value"]>;
  const v =
    raw instanceof tf.Tensor ? raw : tf.tensor1d(Float32Array.from(raw as ArrayLike<number>));
  const R = rows.length;
  const P = positions.length;
  const Hs = heads.length;
  // The value fills a trailing run of the selection's axes, rows × positions [× heads] × features
  // (row-major), and is broadcast over the leading ones: [F], [P, F], …, or the whole selection.
  const dims = layout === "btf" ? [R, P, F] : [R, P, Hs, F];
  const axes =
    layout === "btf"
      ? ["rows", "positions", "features"]
      : ["rows", "positions", "heads", "features"];
  let k = dims.length - 1;
  while (k >= 0 && dims.slice(k).reduce((a, b) => a * b, 1) !== v.size) k--;
  if (k < 0) {
    const sizes = dims.map((_, i) => {
      const run = dims.slice(i);
      return `${run.join("×")} = ${run.reduce((a, b) => a * b, 1)} (${axes.slice(i).join(" × ")})`;
    });
    throw new ModelError(
      "bad_intervention",
      `${where}: value has ${v.size} numbers; expected one of ${sizes.reverse().join(", ")}`,
    );
  }
  let delta: tf.Tensor;
  if (k === dims.length - 1) {
    delta = tf.tensor(mask, maskShape).mul(v.reshape([F])); // one feature vector on every cell
  } else {
    const sel = tf.broadcastTo(v.reshape(dims.map((d, i) => (i < k ? 1 : d))), dims); // [R, P, (Hs,) F]
    const rowIdx = tf.tensor1d(rowMap, "int32");
    const posIdx = tf.tensor1d(posMap, "int32");
    const headIdx = tf.tensor1d(headMap, "int32");
    // scatter by gathering from a zero-padded copy: unselected cells pick index R, P or Hs (zeros)
    const pad = (t: tf.Tensor) =>
      t.pad(t.shape.map((_, i) => [0, i < t.rank - 1 ? 1 : 0] as [number, number]));
    if (layout === "btf") {
      delta = pad(sel).gather(rowIdx, 0).gather(posIdx, 1); // [R+1, P+1, F] → [B, T, F]
    } else if (layout === "bthe") {
      delta = pad(sel).gather(rowIdx, 0).gather(posIdx, 1).gather(headIdx, 2); // [B, T, H, E]
    } else {
      const byHead = sel.transpose([0, 2, 1, 3]); // [R, Hs, P, Tk]
      delta = pad(byHead).gather(rowIdx, 0).gather(headIdx, 1).gather(posIdx, 2); // [B, H, Tq, Tk]
    }
  }
  return iv.op === "add" ? x.add(delta) : x.mul(keep()).add(delta);
}
