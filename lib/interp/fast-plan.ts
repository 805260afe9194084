/**
 * How the fast strategy (lib/interp/fast.ts) batches a sweep: each cell reduced to a job (first
 * patched position t, first changed block f), jobs with the same t grouped into passes sorted by
 * the block at which they join, chunked to at most `maxRows` rows, with each pass's cost.
 */
import type { Cell, CellPatch, PlannedGroup } from "./sweep";

/** A cell reduced to what the fast path needs. */
export interface Job {
  cell: number;
  /** First position patched (≥ t0). */
  t: number;
  /** First block whose output changes (L: only the final residual). */
  f: number;
  /**
   * Block f changes only position t (its patches at f are attn_out / mlp_out / z at t alone:
   * positions after t read block f's unchanged keys and values). Then block f runs on position t
   * only, and the cell joins the pass at block g = f + 1 with the corrupted run's states after t.
   */
  single: boolean;
  /** Block at which the cell's rows join the pass: f, or f + 1 when single. */
  g: number;
  /** Patches with resid_post[l] rewritten as resid_pre[l + 1]; resid_pre[L] = final residual. */
  patches: CellPatch[];
}

export interface FastGroup extends PlannedGroup {
  jobs: Job[];
  /**
   * Cells whose value is known without a pass: "corrupted" (they change nothing the logits read)
   * or "clean" (they restore the final residual at every scored position).
   */
  free?: "corrupted" | "clean";
}

/** The sweep's sizes the plan depends on. */
export interface PlanShape {
  /** Positions in the prompt. */
  P: number;
  /** Blocks. */
  L: number;
  /** Rows per cell (corrupted samples). */
  N: number;
  /** First corrupted position. */
  t0: number;
  /** Most rows in one pass. */
  maxRows: number;
  /** SweepSetup.singlePosition. */
  singlePosition: boolean;
  /** Positions whose logits the metric reads. */
  scored: readonly number[];
}

/** Cells grouped by first patched position, sorted by first block, chunked to maxRows. */
export function planFast(cells: Cell[], s: PlanShape): FastGroup[] {
  const free: number[] = [];
  const clean: number[] = [];
  const byT = new Map<number, Job[]>();
  cells.forEach((cell, i) => {
    const job = toJob(cell, i, s);
    const known = job && knownValue(job, s);
    if (!job || known === "corrupted") {
      free.push(i);
      return;
    }
    if (known === "clean") {
      clean.push(i);
      return;
    }
    const list = byT.get(job.t) ?? [];
    list.push(job);
    byT.set(job.t, list);
  });
  const groups: FastGroup[] = [];
  if (free.length > 0) groups.push({ cells: free, cost: 0, jobs: [], free: "corrupted" });
  if (clean.length > 0) groups.push({ cells: clean, cost: 0, jobs: [], free: "clean" });
  const perPass = Math.max(1, Math.floor(s.maxRows / s.N));
  for (const t of [...byT.keys()].sort((a, b) => a - b)) {
    const jobs = byT.get(t)!.sort((a, b) => a.g - b.g || a.f - b.f || a.cell - b.cell);
    for (let i = 0; i < jobs.length; i += perPass) {
      const chunk = jobs.slice(i, i + perPass);
      groups.push({ cells: chunk.map((j) => j.cell), cost: passCost(chunk, s), jobs: chunk });
    }
  }
  return groups;
}

/** Normalises a cell; null when it changes nothing (all its positions are before t0). */
function toJob(cell: Cell, index: number, s: PlanShape): Job | null {
  const patches: CellPatch[] = [];
  for (const p of cell.patches) {
    const positions = p.positions.filter((t) => t >= s.t0);
    if (positions.length === 0) continue; // clean = corrupted there
    patches.push(
      p.site === "resid_post"
        ? { site: "resid_pre", layer: p.layer + 1, positions }
        : { ...p, positions },
    );
  }
  if (patches.length === 0) return null;
  const t = Math.min(...patches.map((p) => p.positions[0]));
  const f = Math.min(...patches.map((p) => p.layer));
  const single =
    s.singlePosition &&
    f < s.L &&
    s.P - t > 1 &&
    patches
      .filter((p) => p.layer === f)
      .every((p) => p.site !== "resid_pre" && p.positions.length === 1 && p.positions[0] === t);
  return { cell: index, t, f, single, g: single ? f + 1 : f, patches };
}

/**
 * A cell that patches only the final residual (f = L) changes the logits only where it patches:
 * at no scored position its value is the corrupted run's, at every scored position the clean run's
 * (the logits there read the clean residual). Otherwise (or with blocks to run) null.
 */
function knownValue(job: Job, s: PlanShape): "corrupted" | "clean" | null {
  if (job.f < s.L) return null;
  const patched = new Set(job.patches.flatMap((p) => p.positions));
  const hit = s.scored.filter((p) => patched.has(p)).length;
  if (hit === 0) return "corrupted";
  return hit === s.scored.length ? "clean" : null;
}

function passCost(jobs: Job[], s: PlanShape): number {
  const Tq = s.P - jobs[0].t;
  let cost = jobs.filter((x) => x.single).length * s.N; // block f at position t alone
  for (let j = 0; j < s.L; j++) {
    cost += jobs.filter((x) => x.g <= j).length * s.N * Tq;
  }
  return cost;
}
