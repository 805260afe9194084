/**
 * ROME's preserve with its cost bound (params.preserve_cost κ, lib/edit/rome-preserve.ts) against
 * the numpy reference scripts/reference/rome_preserve_cost_ref.py (explicit inverses and quadratic
 * forms; test/fixtures/edit/rome-preserve-cost.json): the direction at λ, and the λ that κ allows
 * (the largest λ' ≤ λ whose mean square write on C's keys is ≤ κ × ROME's) with its direction.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cholesky, choleskySolve } from "../lib/edit/linalg";
import { parseEdit } from "../lib/edit/parse";
import { solvePreserving } from "../lib/edit/rome-preserve";
import { relErr } from "./helpers/rel-err";

const G = JSON.parse(
  readFileSync(path.join(__dirname, "fixtures/edit/rome-preserve-cost.json"), "utf8"),
) as {
  C: number[][];
  others: number[][];
  k_star: number[];
  k_update: number[];
  lambda: number;
  w0: number[];
  w_lambda: number[];
  cases: { kappa: number; lambda: number; w: number[] }[];
};
const n = G.C.length;
const L = cholesky(Float64Array.from(G.C.flat()), n);
const base = {
  solve: (k: Float64Array) => choleskySolve(L, n, k),
  kStar: Float64Array.from(G.k_star),
  others: G.others.map((k) => Float64Array.from(k)),
  kUpdate: Float64Array.from(G.k_update),
};

describe("ROME preserve and its cost bound against numpy", () => {
  it("λ 0 is ROME's C⁻¹k*; λ without a bound is the preserving direction", () => {
    const rome = solvePreserving({ ...base, lambda: 0 });
    expect(rome.lambda).toBe(0);
    expect(relErr(Array.from(rome.w), G.w0)).toBeLessThan(1e-10);
    const full = solvePreserving({ ...base, lambda: G.lambda, cost: 0 });
    expect(full.lambda).toBe(G.lambda);
    expect(relErr(Array.from(full.w), G.w_lambda)).toBeLessThan(1e-10);
  });

  for (const c of G.cases) {
    it(`κ ${c.kappa.toPrecision(3)} allows λ ${c.lambda.toPrecision(6)}`, () => {
      const r = solvePreserving({ ...base, lambda: G.lambda, cost: c.kappa });
      // 30 bisection steps on log λ over a factor 1e6: within 2e-8 relative
      expect(Math.abs(r.lambda / c.lambda - 1)).toBeLessThan(1e-7);
      expect(relErr(Array.from(r.w), c.w)).toBeLessThan(1e-7);
    });
  }

  it("refuses a preserve_cost outside 0 to 10⁶, by name", () => {
    for (const preserve_cost of [-1, 2e6, "2"]) {
      expect(() =>
        parseEdit({
          kind: "rome",
          site: {},
          params: { prompt: "{} x", subject: "s", target_new: "t", preserve: 10, preserve_cost },
        }),
      ).toThrow(/params\.preserve_cost/);
    }
  });
});
