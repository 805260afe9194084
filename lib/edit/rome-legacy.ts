/**
 * ROME edits written before a default changed keep their meaning. Edit files (lib/edit/parse.ts)
 * and session links / files (lib/share/migrate.ts) of version 1 were written while ROME's
 * `preserve` and `preserve_cost` defaulted to 0; since version 2 they default to 10 and 2
 * (lib/edit/rome-defaults.ts). A v1 ROME edit without them meant 0, so reading v1 writes that
 * 0 into its params. A learned edit (u, v) is applied as learned either way; the explicit 0 keeps
 * what its params say true, and a recipe (no u, v) is learned as it was then.
 */
import { isObj } from "./parse-checker";

/** What a v1 ROME edit without these params meant. */
export const ROME_V1_PARAMS = { preserve: 0, preserve_cost: 0 } as const;

/**
 * One v1 edit (untrusted JSON) as v2: a ROME edit's absent preserve / preserve_cost set to their
 * v1 values, anything else returned as it is (the edit parser reports what is wrong with it).
 */
export function romeEditFromV1(x: unknown): unknown {
  if (!isObj(x) || x.kind !== "rome" || !isObj(x.params)) return x;
  const params = { ...x.params };
  for (const [k, v] of Object.entries(ROME_V1_PARAMS)) {
    if (!Object.hasOwn(params, k)) params[k] = v;
  }
  return { ...x, params };
}

/** A v1 list of edits as v2 (not a list: returned as it is, for the reader to refuse). */
export function editsFromV1(x: unknown): unknown {
  return Array.isArray(x) ? x.map(romeEditFromV1) : x;
}
