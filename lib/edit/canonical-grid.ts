/**
 * Choosing a method's setting on the validation cases (docs/recipes.md "Canonical examples"): the
 * grid varies one number (the learning rate, or λ for lora+forget), its points are scored in
 * ascending order, and while the best point is the grid's lowest or highest the grid is extended
 * one geometric step beyond that edge (the ratio of the two points at that edge) and scored
 * again, up to `maxExtend` times. So a chosen value is never the grid's edge unless the extension
 * budget ran out (then `at_edge` says so).
 */
import type { MethodSetting } from "./canonical-methods";

type Key = "lr" | "lambda";

/** The number a grid varies, or null for a one-point grid. */
export function gridKey(grid: readonly MethodSetting[]): Key | null {
  if (grid.length < 2) return null;
  if (grid.every((s) => s.lr !== undefined) && new Set(grid.map((s) => s.lr)).size > 1) return "lr";
  if (grid.every((s) => s.lambda !== undefined)) return "lambda";
  throw new Error("a grid varies either lr or lambda in every point");
}

/** Picks the best setting, extending the grid past an edge that wins. */
export async function chooseSetting<R extends { setting: MethodSetting }>(o: {
  grid: readonly MethodSetting[];
  score: (s: MethodSetting) => Promise<R>;
  better: (a: R, b: R) => boolean;
  maxExtend: number;
}): Promise<{ results: R[]; chosen: MethodSetting; at_edge: boolean }> {
  const key = gridKey(o.grid);
  if (key === null) return { results: [], chosen: o.grid[0], at_edge: false };
  const val = (s: MethodSetting) => s[key] as number;
  let points = [...o.grid].sort((a, b) => val(a) - val(b));
  const results: R[] = [];
  for (const s of points) results.push(await o.score(s));
  for (let k = 0; ; k++) {
    const order = points.map((s) => results.find((r) => r.setting === s) as R);
    const best = order.reduce((acc, r) => (o.better(r, acc) ? r : acc));
    const i = order.indexOf(best);
    const edge = i === 0 ? "low" : i === order.length - 1 ? "high" : null;
    if (edge === null || k >= o.maxExtend)
      return { results, chosen: best.setting, at_edge: edge !== null };
    const [p, q] = edge === "low" ? [points[0], points[1]] : [points.at(-1), points.at(-2)];
    const next = {
      ...(p as MethodSetting),
      [key]: val(p as MethodSetting) ** 2 / val(q as MethodSetting),
    };
    results.push(await o.score(next));
    points = edge === "low" ? [next, ...points] : [...points, next];
  }
}
