/**
 * The fast strategy's planner (lib/interp/fast-plan.ts) on a hidden trace's cells: which cells
 * need no pass (and which value they take), how the rest are grouped. Pure bookkeeping; the
 * numbers these plans produce are checked against numpy and the naive strategy in
 * interp-trace.test.ts and model-families-sweeps.test.ts.
 */
import { describe, expect, it } from "vitest";
import { planFast } from "../lib/interp/fast-plan";
import type { Cell } from "../lib/interp/sweep";

const P = 6;
const L = 3;
/** ROME's hidden trace: restore resid_post[l] at position t, every (t, l). */
const hiddenCells: Cell[] = [];
for (let t = 0; t < P; t++)
  for (let l = 0; l < L; l++)
    hiddenCells.push({ patches: [{ site: "resid_post", layer: l, positions: [t] }] });
const cellOf = (t: number, l: number) => t * L + l;
const shape = { P, L, N: 2, t0: 1, maxRows: 1000, singlePosition: false, scored: [P - 1] };

describe("planFast", () => {
  it("takes the corrupted value before t0 and for the last layer off the scored position, the clean value on it", () => {
    const groups = planFast(hiddenCells, shape);
    const corrupted = groups.find((g) => g.free === "corrupted")!.cells.sort((a, b) => a - b);
    const clean = groups.find((g) => g.free === "clean")!.cells;
    const wantCorrupted = [
      ...[0, 1, 2].map((l) => cellOf(0, l)), // t = 0 < t0: nothing corrupted there
      ...[1, 2, 3, 4].map((t) => cellOf(t, L - 1)), // final residual at an unscored position
    ].sort((a, b) => a - b);
    expect(corrupted).toEqual(wantCorrupted);
    expect(clean).toEqual([cellOf(P - 1, L - 1)]);
    // every other cell runs in exactly one pass, grouped by its position
    const run = groups.filter((g) => !g.free);
    const ran = run.flatMap((g) => g.cells).sort((a, b) => a - b);
    const all = new Set([...wantCorrupted, cellOf(P - 1, L - 1)]);
    expect(ran).toEqual(hiddenCells.map((_, i) => i).filter((i) => !all.has(i)));
    for (const g of run) expect(new Set(g.jobs.map((j) => j.t)).size).toBe(1);
    for (const g of [...groups.filter((g) => g.free)]) expect(g.cost).toBe(0);
  });

  it("runs a final-residual cell that covers only some of several scored positions", () => {
    const cells: Cell[] = [
      { patches: [{ site: "resid_post", layer: L - 1, positions: [4] }] },
      { patches: [{ site: "resid_post", layer: L - 1, positions: [4, 5] }] },
    ];
    const groups = planFast(cells, { ...shape, scored: [4, 5] });
    expect(groups.find((g) => g.free === "clean")?.cells).toEqual([1]);
    expect(groups.filter((g) => !g.free).flatMap((g) => g.cells)).toEqual([0]);
  });
});
