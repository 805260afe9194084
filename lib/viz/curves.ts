/**
 * Dataset mode's curves (ROME's Figure 2): average indirect effect by layer for each token
 * group, with a 95% band. Helpers to size the chart and pick the groups worth drawing.
 */

export interface Curve {
  group: string;
  n: number;
  mean: number[];
  lo: number[];
  hi: number[];
}

/** [min, max] over every finite band edge and mean, always containing 0; null when empty. */
export function curvesExtent(curves: readonly Curve[]): [number, number] | null {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const c of curves) {
    for (const arr of [c.lo, c.hi, c.mean]) {
      for (const v of arr) {
        if (Number.isFinite(v)) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
  }
  if (lo > hi) return null;
  lo = Math.min(lo, 0);
  hi = Math.max(hi, 0);
  if (lo === hi) hi = lo + 1e-6;
  return [lo, hi];
}

/** The curves with at least one sample (a group can be empty, e.g. no middle subject token). */
export function drawable<C extends Curve>(curves: readonly C[]): C[] {
  return curves.filter((c) => c.n > 0 && c.mean.some((v) => Number.isFinite(v)));
}

/** ROME's names for the token groups. */
export const GROUP_LABEL: Record<string, string> = {
  first_subject: "first subject token",
  middle_subject: "middle subject tokens",
  last_subject: "last subject token",
  first_after: "first subsequent token",
  further: "further tokens",
  last: "last token",
};

/** One colour per group: the subject's last token and the prompt's last token stand out. */
export const GROUP_COLOR: Record<string, string> = {
  first_subject: "#9ecae1",
  middle_subject: "#6baed6",
  last_subject: "#08519c",
  first_after: "#fdae6b",
  further: "#bdbdbd",
  last: "#d94801",
};
