/**
 * What the app asks the worker for a consistency run (lib/protocol.ts "consistency"): K, α,
 * the seed and facts per relation, each checked against its row of ./consistency-params.ts.
 * Absent K or α are chosen on the train relations, as `causeway consistency` does.
 */
import { inRange, rangeText } from "../params/schema";
import { CONSISTENCY_PARAMS } from "./consistency-params";
import type { RunOptions } from "./consistency-run";

export interface ConsistencyRequest {
  k?: number;
  alpha?: number;
  seed?: number;
  facts?: number;
}

/** The run options of a request, or the first bad setting named with its range. */
export function consistencyOptions(r: ConsistencyRequest): RunOptions | { error: string } {
  const P = CONSISTENCY_PARAMS;
  const checks: [keyof ConsistencyRequest, (typeof P)[keyof typeof P]][] = [
    ["k", P.k],
    ["alpha", P.alpha],
    ["seed", P.seed],
    ["facts", P.facts],
  ];
  for (const [name, p] of checks) {
    const v = r[name];
    if (v !== undefined && !inRange(p, v)) {
      return { error: `${p.label} must be ${rangeText(p)}, got ${JSON.stringify(v)}` };
    }
  }
  return {
    k: r.k,
    alpha: r.alpha,
    settings: {
      ...(r.seed !== undefined ? { seed: r.seed } : {}),
      ...(r.facts !== undefined ? { perRelation: r.facts } : {}),
    },
  };
}
