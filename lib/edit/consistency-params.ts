/**
 * The semantic-consistency recipe's settings, one row each (default and range; ../params/schema.ts),
 * read by `causeway consistency`'s flags and the head form's recipe panel. K and α reuse the
 * edit bounds of head_steer (./bounds.ts).
 */
import { fromBound, type NumParam } from "../params/schema";
import { EDIT_BOUNDS } from "./bounds";

export const CONSISTENCY_PARAMS = {
  k: fromBound(EDIT_BOUNDS.top_k, { integer: true, label: "K", default: null }),
  alpha: fromBound(EDIT_BOUNDS.alpha, { integer: false, label: "α", default: null }),
  facts: {
    integer: true,
    min: 2,
    max: 10_000,
    default: 40,
    label: "facts per relation",
    doc: "facts of each relation used (the dataset's first N)",
    unit: "facts",
  },
  seed: fromBound(EDIT_BOUNDS.seed, { integer: true, label: "the seed", default: 0 }),
  valRatio: fromBound(EDIT_BOUNDS.val_ratio, {
    integer: false,
    label: "the probe's validation share",
    default: 0.2,
  }),
} as const satisfies Record<string, NumParam>;
