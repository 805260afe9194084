/**
 * The naive strategy, the reference: one full forward pass (all P positions, all L blocks) per
 * cell, its N rows (noise samples) batched, with the cell's patches as replace interventions
 * (lib/model/intervention.ts) of the clean run's recorded activations. Nothing is cached or
 * skipped: patches at positions before the first corrupted token are run too.
 */
import * as tf from "@tensorflow/tfjs";
import type { ModelIntervention } from "../model/gpt2";
import { repeatRows } from "../model/ops";
import {
  type Baseline,
  type Cell,
  type CellPatch,
  type Metric,
  meanRows,
  type PlannedGroup,
  type SweepEngine,
  type SweepSetup,
  siteHook,
} from "./sweep";

interface NaiveGroup extends PlannedGroup {
  patches: CellPatch[];
}

export class NaiveEngine implements SweepEngine {
  readonly strategy = "naive" as const;
  evaluations = 0;
  private readonly P: number;
  private readonly L: number;
  private cleanActs = new Map<string, tf.Tensor>();
  private cleanLogits: tf.Tensor3D | null = null;
  private noise: tf.Tensor | null = null;
  private metric: Metric | null = null;

  constructor(private readonly s: SweepSetup) {
    this.P = s.cleanIds.length;
    this.L = s.model.config.nLayer;
  }

  baselineCost(): number {
    return this.P * this.L * (1 + this.s.rows);
  }

  async clean(): Promise<{ top1: number }> {
    const { model, sites } = this.s;
    const record: string[] = [];
    for (let l = 0; l < this.L; l++) {
      for (const site of sites) record.push(siteHook({ site, layer: l, positions: [] }));
    }
    const { logits, activations } = model.forward({
      inputIds: [this.s.cleanIds],
      record,
      logitPositions: this.s.scored,
    });
    this.cleanLogits = logits; // [1, S, V]
    this.cleanActs = activations;
    this.evaluations += this.P * this.L;
    const top = tf.tidy(() => logits.slice([0, 0, 0], [1, 1, -1]).reshape([-1]).argMax()); // []
    try {
      return { top1: (await top.data())[0] };
    } finally {
      top.dispose();
    }
  }

  async baseline(metric: Metric): Promise<Baseline> {
    this.metric = metric;
    const { model, rows, noise } = this.s;
    if (noise) this.noise = tf.tensor1d(noise.values); // [rows · positions · D]
    const [clean, corrupt] = tf.tidy(() => {
      const c = metric.compute(this.cleanLogits!); // [1, M]
      const { logits } = model.forward({
        inputIds: Array.from({ length: rows }, () => this.s.corruptIds),
        interventions: this.noiseInterventions(),
        logitPositions: this.s.scored,
      });
      return [c, metric.compute(logits)]; // [rows, M]
    });
    this.evaluations += rows * this.P * this.L;
    try {
      const [cd, kd] = await Promise.all([clean.data(), corrupt.data()]);
      return {
        clean: Float64Array.from(cd),
        corrupt: meanRows(kd as Float32Array, rows, metric.size),
      };
    } finally {
      tf.dispose([clean, corrupt]);
    }
  }

  /** One group per cell, carrying its patches (plans of several grids can be run in any order). */
  plan(cells: Cell[]): PlannedGroup[] {
    const cost = this.s.rows * this.P * this.L;
    return cells.map((cell, i): NaiveGroup => ({ cells: [i], cost, patches: cell.patches }));
  }

  async run(group: PlannedGroup): Promise<Float64Array> {
    const metric = this.metric!;
    const { model, rows } = this.s;
    const result = tf.tidy(() => {
      const interventions = this.noiseInterventions();
      for (const p of (group as NaiveGroup).patches) interventions.push(this.patch(p));
      const { logits } = model.forward({
        inputIds: Array.from({ length: rows }, () => this.s.corruptIds),
        interventions,
        logitPositions: this.s.scored,
      });
      return metric.compute(logits); // [rows, M]
    });
    this.evaluations += group.cells.length * rows * this.P * this.L;
    try {
      return meanRows((await result.data()) as Float32Array, rows, metric.size);
    } finally {
      result.dispose();
    }
  }

  dispose(): void {
    tf.dispose([...this.cleanActs.values()]);
    this.cleanActs.clear();
    if (this.cleanLogits) this.cleanLogits.dispose();
    if (this.noise) this.noise.dispose();
    this.cleanLogits = null;
    this.noise = null;
  }

  private noiseInterventions(): ModelIntervention[] {
    const n = this.s.noise;
    if (!n || !this.noise) return [];
    return [{ hook: "hook_embed", op: "add", positions: n.positions, value: this.noise }];
  }

  /** Replace at the patch's hook with the clean activation at its positions (all rows). */
  private patch(p: CellPatch): ModelIntervention {
    const hook = siteHook(p);
    const act = this.cleanActs.get(hook);
    if (!act) throw new Error(`clean activation ${hook} was not recorded`);
    const pos = tf.tensor1d(p.positions, "int32");
    let value: tf.Tensor;
    if (p.site === "z") {
      const [, , H, E] = act.shape;
      const head = act.gather(pos, 1).slice([0, 0, p.head!, 0], [1, p.positions.length, 1, E]); // [1, Ps, 1, E]
      if (p.head! >= H) throw new Error(`head ${p.head} ≥ ${H}`);
      value = repeatRows(head, this.s.rows); // [rows, Ps, 1, E]
    } else {
      value = repeatRows(act.gather(pos, 1), this.s.rows); // [rows, Ps, F]
    }
    return {
      hook,
      op: "replace",
      positions: p.positions,
      heads: p.site === "z" ? [p.head!] : undefined,
      value,
    };
  }
}
