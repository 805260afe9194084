/**
 * The fast strategy: the same numbers as the naive one (lib/interp/naive.ts) for a fraction of
 * the work, built from Gpt2Model's building blocks (embed / block with past keys and values /
 * unembed):
 *
 * 1. The clean run once, block by block, keeping every layer's residual input, keys/values and
 *    the activations cells copy (attn_out, mlp_out, z).
 * 2. The corrupted run once for all N rows, from the first corrupted position t0 only: positions
 *    before t0 are the clean run's (causal attention), so their keys/values are reused. Every
 *    layer's residual input and keys/values at positions ≥ t0 are kept, per row.
 * 3. A cell that patches positions ≥ t starting at block f leaves every block below f and every
 *    position before t exactly as in the corrupted run: only blocks f…L−1 at positions t…P−1 are
 *    computed, starting from the corrupted residual at block f, attending to the corrupted run's
 *    keys/values for positions < t. Optionally (singlePosition), when the cell changes only
 *    position t in block f (attn_out, mlp_out or a head's z at t: positions after t read block
 *    f's unchanged keys/values), block f runs on position t alone. Cells that patch only
 *    positions < t0 change nothing: their value is the corrupted run's, for free.
 * 4. All cells with the same t run in one pass: rows are (cell, sample), and a cell's N rows join
 *    the batch at its block f, so block j runs on every cell with f ≤ j at once. Passes are capped
 *    at `maxBatchRows` rows (cells sorted by f, then chunked).
 *
 * Shapes: a pass at position t through block j has [R_j, P − t, D] rows, R_j = N · #(cells with
 * f ≤ j). They are not one fixed shape (that would mean padding, i.e. spending the evaluations
 * this path saves), but a bounded set, O(P · L), that depends only on (P, L, N, the cells): a
 * sweep repeated on prompts of the same length reuses the same buffer sizes, and tfjs-webgpu
 * 4.22 keys its shader cache on ranks and broadcast patterns, not on sizes.
 *
 * Measured: identical to naive to float32 rounding (bit-identical on wasm here); wall time
 * ≈ 1/3 of naive for hidden traces on wasm, less saving than in evaluations because every cell
 * still unembeds its rows (V · D each, the same in both strategies).
 */
import * as tf from "@tensorflow/tfjs";
import { attnDims } from "../load/model-config";
import type { KeyValue, ModelIntervention } from "../model/gpt2";
import { blockHook } from "../model/hooks";
import { repeatRows } from "../model/ops";
import { type FastGroup, type Job, planFast } from "./fast-plan";
import {
  type Baseline,
  type Cell,
  type CellPatch,
  firstCorrupted,
  type Metric,
  meanRows,
  type PlannedGroup,
  type SweepEngine,
  type SweepSetup,
  siteHook,
} from "./sweep";

/**
 * Default memory budget for the largest activation of one pass, in float32 values (16 MiB). A
 * block holds about a dozen activations of that size at once, so a pass peaks near 200 MiB
 * above the weights; wider sweeps run in more passes, whose rows stream as each one ends (the
 * head sweep on GPT-2 small at 30 tokens was one 1.4 GiB pass with a 64 MiB budget).
 */
const BUDGET_FLOATS = 1 << 22;

export class FastEngine implements SweepEngine {
  readonly strategy = "fast" as const;
  evaluations = 0;
  readonly P: number;
  readonly L: number;
  readonly H: number;
  readonly D: number;
  readonly E: number;
  readonly N: number;
  readonly t0: number;
  /** Clean keys (after rotary) / values [1, Hkv, P, E]. */
  private cleanKV: KeyValue[] = [];
  /** resid_pre of each layer, index L = final residual (resid_post of the last block): [1, P, D]. */
  private cleanResid: tf.Tensor3D[] = [];
  private cleanAttn: tf.Tensor3D[] = [];
  private cleanMlp: tf.Tensor3D[] = [];
  private cleanZ: tf.Tensor4D[] = [];
  private cleanLogits: tf.Tensor3D | null = null;
  /** Corrupted keys/values [N, Hkv, P, E] (prefix from the clean run). */
  private corrKV: KeyValue[] = [];
  /** Corrupted residual inputs at positions t0…P−1: [N, P − t0, D], index L = final. */
  private corrResid: tf.Tensor3D[] = [];
  private metric: Metric | null = null;
  private corruptMean: Float64Array | null = null;
  private cleanMetric: Float64Array | null = null;
  private readonly maxRows: number;

  constructor(private readonly s: SweepSetup) {
    const c = s.model.config;
    const { H, Hkv, E } = attnDims(c);
    this.P = s.cleanIds.length;
    this.L = c.nLayer;
    this.H = H;
    this.D = c.dModel;
    this.E = E;
    this.N = s.rows;
    this.t0 = firstCorrupted(s);
    const widest = this.P * Math.max(c.dMlp, (H + 2 * Hkv) * E, H * this.P);
    this.maxRows = s.maxBatchRows ?? Math.max(this.N, Math.floor(BUDGET_FLOATS / widest));
  }

  baselineCost(): number {
    return this.P * this.L + this.N * (this.P - this.t0) * this.L;
  }

  async clean(): Promise<{ top1: number }> {
    const { model, sites } = this.s;
    const top = tf.tidy(() => {
      let resid = model.embed([this.s.cleanIds]).resid; // [1, P, D]
      for (let l = 0; l < this.L; l++) {
        this.cleanResid.push(tf.keep(resid));
        const [attnHook, mlpHook, zHook] = [
          blockHook(l, "hook_attn_out"),
          blockHook(l, "hook_mlp_out"),
          blockHook(l, "attn.hook_z"),
        ];
        const record: string[] = [];
        if (sites.has("attn_out")) record.push(attnHook);
        if (sites.has("mlp_out")) record.push(mlpHook);
        if (sites.has("z")) record.push(zHook);
        const b = model.block(l, resid, { hooks: model.hooks({ record }) });
        this.cleanKV.push({ k: tf.keep(b.kv.k), v: tf.keep(b.kv.v) }); // [1, Hkv, P, E]
        const a = b.activations;
        if (sites.has("attn_out")) this.cleanAttn.push(tf.keep(a.get(attnHook) as tf.Tensor3D));
        if (sites.has("mlp_out")) this.cleanMlp.push(tf.keep(a.get(mlpHook) as tf.Tensor3D));
        if (sites.has("z")) this.cleanZ.push(tf.keep(a.get(zHook) as tf.Tensor4D));
        resid = b.resid;
      }
      this.cleanResid.push(tf.keep(resid));
      const { logits } = model.unembed(resid, this.s.scored); // [1, S, V]
      this.cleanLogits = tf.keep(logits);
      return logits.slice([0, 0, 0], [1, 1, -1]).reshape([-1]).argMax(); // []
    });
    this.evaluations += this.P * this.L;
    try {
      return { top1: (await top.data())[0] };
    } finally {
      top.dispose();
    }
  }

  async baseline(metric: Metric): Promise<Baseline> {
    this.metric = metric;
    const { model, noise } = this.s;
    const { N, P, L, t0 } = this;
    const [clean, corrupt] = tf.tidy(() => {
      const c = metric.compute(this.cleanLogits!); // [1, M]
      const ids = this.s.corruptIds.slice(t0);
      const interventions: ModelIntervention[] = noise
        ? [
            {
              hook: "hook_embed",
              op: "add",
              positions: noise.positions,
              value: tf.tensor1d(noise.values),
            },
          ]
        : [];
      const hooks = model.hooks({ interventions });
      let resid = model.embed(
        Array.from({ length: N }, () => ids),
        { posOffset: t0, hooks },
      ).resid; // [N, P − t0, D]
      for (let l = 0; l < L; l++) {
        this.corrResid.push(tf.keep(resid));
        const prefix: KeyValue | undefined =
          t0 > 0
            ? {
                k: this.cleanKV[l].k.slice([0, 0, 0, 0], [1, -1, t0, -1]), // [1, Hkv, t0, E]
                v: this.cleanKV[l].v.slice([0, 0, 0, 0], [1, -1, t0, -1]),
              }
            : undefined;
        const b = model.block(l, resid, { past: prefix });
        const all = (p: tf.Tensor4D | undefined, own: tf.Tensor4D): tf.Tensor4D =>
          p ? tf.concat4d([repeatRows(p, N), own], 2) : own; // [N, Hkv, P, E]
        this.corrKV.push({
          k: tf.keep(all(prefix?.k, b.kv.k)),
          v: tf.keep(all(prefix?.v, b.kv.v)),
        });
        resid = b.resid;
      }
      this.corrResid.push(tf.keep(resid));
      const { logits } = model.unembed(
        resid,
        this.s.scored.map((p) => p - t0),
      ); // [N, S, V]
      return [c, metric.compute(logits)]; // [1, M], [N, M]
    });
    this.evaluations += N * (P - t0) * L;
    try {
      const [cd, kd] = await Promise.all([clean.data(), corrupt.data()]);
      this.corruptMean = meanRows(kd as Float32Array, N, metric.size);
      this.cleanMetric = Float64Array.from(cd);
      return { clean: this.cleanMetric, corrupt: this.corruptMean };
    } finally {
      tf.dispose([clean, corrupt]);
    }
  }

  /** Cells grouped by first patched position, sorted by first block, chunked to maxBatchRows. */
  plan(cells: Cell[]): FastGroup[] {
    const { P, L, N, t0 } = this;
    const singlePosition = this.s.singlePosition === true;
    const { scored } = this.s;
    return planFast(cells, { P, L, N, t0, maxRows: this.maxRows, singlePosition, scored });
  }

  async run(group: PlannedGroup): Promise<Float64Array> {
    const g = group as FastGroup;
    const M = this.metric!.size;
    if (g.free) {
      const value = g.free === "clean" ? this.cleanMetric! : this.corruptMean!;
      const out = new Float64Array(g.cells.length * M);
      for (let i = 0; i < g.cells.length; i++) out.set(value, i * M);
      return out;
    }
    const result = tf.tidy(() => this.pass(g.jobs));
    this.evaluations += g.cost;
    try {
      return meanRows((await result.data()) as Float32Array, this.N, M);
    } finally {
      result.dispose();
    }
  }

  dispose(): void {
    const all: tf.Tensor[] = [
      ...this.cleanResid,
      ...this.cleanAttn,
      ...this.cleanMlp,
      ...this.cleanZ,
      ...this.corrResid,
    ];
    for (const kv of [...this.cleanKV, ...this.corrKV]) all.push(kv.k, kv.v);
    if (this.cleanLogits) all.push(this.cleanLogits);
    tf.dispose(all);
    this.cleanResid = [];
    this.cleanAttn = [];
    this.cleanMlp = [];
    this.cleanZ = [];
    this.corrResid = [];
    this.cleanKV = [];
    this.corrKV = [];
    this.cleanLogits = null;
  }

  /** One pass: jobs share t; returns the metric per row [jobs · N, M]. Call inside tf.tidy. */
  private pass(jobs: Job[]): tf.Tensor2D {
    const { model } = this.s;
    const { N, P, L, D, t0 } = this;
    const t = jobs[0].t;
    const Tq = P - t;
    // the last block computes only positions ≥ start (the logits read nothing before them)
    const start = Math.max(t, Math.min(...this.s.scored));
    let state: tf.Tensor3D | null = null; // [R, Tq, D]; after the last block [R, P − start, D]
    let active = 0;
    for (let j = jobs[0].g; j <= L; j++) {
      // jobs are sorted by (g, f): those joining here are single ones (f = j − 1), then the rest
      const joining = jobs.filter((x) => x.g === j);
      if (joining.length > 0) {
        const singles = joining.filter((x) => x.single);
        const added: tf.Tensor3D[] = [];
        if (singles.length > 0) added.push(this.singleEntry(singles, j - 1, t)); // [S · N, Tq, D]
        const rest = joining.length - singles.length;
        if (rest > 0) {
          const base = this.corrResid[j].slice([0, t - t0, 0], [N, Tq, D]); // [N, Tq, D]
          added.push(repeatRows(base, rest)); // [rest · N, Tq, D]
        }
        // joining after the last block: only positions ≥ start, like the state it joins
        const cut = j === L && start > t;
        const parts = [
          ...(state ? [state] : []),
          ...added.map((x) => (cut ? x.slice([0, start - t, 0], [-1, P - start, D]) : x)),
        ];
        state = parts.length > 1 ? tf.concat3d(parts, 0) : parts[0];
        active += joining.length;
      }
      if (j === L) break;
      const past: KeyValue | undefined =
        t > 0
          ? {
              k: repeatRows(this.corrKV[j].k.slice([0, 0, 0, 0], [N, -1, t, -1]), active), // [R, Hkv, t, E]
              v: repeatRows(this.corrKV[j].v.slice([0, 0, 0, 0], [N, -1, t, -1]), active),
            }
          : undefined;
      const interventions = this.interventionsAt(jobs.slice(0, active), j);
      const prev: tf.Tensor3D = state!;
      const outFrom = j === L - 1 ? start - t : 0;
      const hooks = model.hooks({ interventions });
      const b = model.block(j, prev, { past, hooks, outFrom });
      tf.dispose([prev, b.kv.k, b.kv.v, ...(past ? [past.k, past.v] : [])]);
      state = b.resid; // [R, Tq, D]
    }
    // patches of the final residual (hidden state of the last layer)
    const final = this.finalPatch(jobs, state!, start);
    const { logits } = model.unembed(
      final,
      this.s.scored.map((p) => p - start),
    ); // [R, S, V]
    return this.metric!.compute(logits); // [R, M]
  }

  /**
   * Block f on position t alone for single jobs (all with first block f), followed by the
   * corrupted run's residual after t: their state entering block f + 1, [S · N, Tq, D].
   */
  private singleEntry(jobs: Job[], f: number, t: number): tf.Tensor3D {
    const { model } = this.s;
    const { N, P, D, t0 } = this;
    const S = jobs.length;
    const at = this.corrResid[f].slice([0, t - t0, 0], [N, 1, D]); // [N, 1, D]
    const x = repeatRows(at, S); // [S · N, 1, D]
    const past: KeyValue | undefined =
      t > 0
        ? {
            k: repeatRows(this.corrKV[f].k.slice([0, 0, 0, 0], [N, -1, t, -1]), S), // [S · N, Hkv, t, E]
            v: repeatRows(this.corrKV[f].v.slice([0, 0, 0, 0], [N, -1, t, -1]), S),
          }
        : undefined;
    const b = model.block(f, x, {
      past,
      hooks: model.hooks({ interventions: this.interventionsAt(jobs, f) }),
    });
    const after = this.corrResid[f + 1].slice([0, t - t0 + 1, 0], [N, P - t - 1, D]); // [N, Tq − 1, D]
    const rest = repeatRows(after, S); // [S · N, Tq − 1, D]
    return tf.concat3d([b.resid, rest], 1); // [S · N, Tq, D]
  }

  /** Replace interventions for block j: one per (site, positions, head), rows merged. */
  private interventionsAt(active: Job[], j: number): ModelIntervention[] {
    const { N } = this;
    const merged = new Map<string, { p: CellPatch; rows: number[] }>();
    active.forEach((job, k) => {
      for (const p of job.patches) {
        if (p.layer !== j) continue;
        const key = `${p.site}|${p.head ?? ""}|${p.positions.join(",")}`;
        const m = merged.get(key) ?? { p, rows: [] };
        for (let r = 0; r < N; r++) m.rows.push(k * N + r);
        merged.set(key, m);
      }
    });
    const out: ModelIntervention[] = [];
    for (const { p, rows } of merged.values()) {
      out.push({
        hook: siteHook(p),
        op: "replace",
        batchIndex: rows,
        positions: p.positions,
        heads: p.site === "z" ? [p.head!] : undefined,
        value: this.cleanValue(p, rows.length),
      });
    }
    return out;
  }

  /**
   * The clean activation a patch copies: [F] (one position, broadcast over the selection) or the
   * whole selection [rows · Ps (· 1) · F].
   */
  private cleanValue(p: CellPatch, rows: number): tf.Tensor {
    const { E } = this;
    const src =
      p.site === "resid_pre"
        ? this.cleanResid[p.layer]
        : p.site === "attn_out"
          ? this.cleanAttn[p.layer]
          : p.site === "mlp_out"
            ? this.cleanMlp[p.layer]
            : this.cleanZ[p.layer];
    if (!src) throw new Error(`clean activation for ${p.site} at layer ${p.layer} was not kept`);
    const Ps = p.positions.length;
    const at = src.gather(tf.tensor1d(p.positions, "int32"), 1); // [1, Ps, F] or [1, Ps, H, E]
    const sel = p.site === "z" ? at.slice([0, 0, p.head!, 0], [1, Ps, 1, E]) : at; // [1, Ps, (1,) F]
    if (Ps === 1) return sel.reshape([-1]); // [F]
    return repeatRows(sel, rows); // [rows, Ps, (1,) F]
  }

  /**
   * Applies resid_pre[L] patches (the final residual) to state [R, P − t, D] (positions t…P−1)
   * by exact masking.
   */
  private finalPatch(jobs: Job[], state: tf.Tensor3D, t: number): tf.Tensor3D {
    const { N, L, P, D } = this;
    const Tq = P - t;
    const R = jobs.length * N;
    const mask = new Float32Array(R * Tq);
    let any = false;
    jobs.forEach((job, k) => {
      for (const p of job.patches) {
        if (p.site !== "resid_pre" || p.layer !== L) continue;
        for (let r = 0; r < N; r++)
          for (const pos of p.positions) if (pos >= t) mask[(k * N + r) * Tq + (pos - t)] = 1;
        any = true;
      }
    });
    if (!any) return state;
    const m = tf.tensor3d(mask, [R, Tq, 1]); // [R, Tq, 1]
    const keep = tf.tensor3d(
      mask.map((x) => 1 - x),
      [R, Tq, 1],
    );
    const clean = this.cleanResid[L].slice([0, t, 0], [1, Tq, D]); // [1, Tq, D]
    return state.mul(keep).add(clean.mul(m)) as tf.Tensor3D; // exact: x·1 + c·0, x·0 + c·1
  }
}
