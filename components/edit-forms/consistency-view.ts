/**
 * What the head form's consistency panel shows of a run (lib/edit/consistency-run.ts), apart
 * from React: the before/after rows on the train and held-out relations and the chosen heads.
 * The CLI prints the same fields of the same run (test/consistency-app.test.ts compares them).
 */
import type { ConsistencyRun } from "../../lib/edit/consistency-run";

export interface ConsistencyRow {
  split: "train" | "held-out";
  relations: string[];
  consistency: { before: number; after: number };
  accuracy: { before: number; after: number };
  pairs: number;
}

export function consistencyRows(run: ConsistencyRun): ConsistencyRow[] {
  return (["train", "heldout"] as const).map((w) => ({
    split: w === "train" ? "train" : "held-out",
    relations: run.relations[w],
    consistency: { before: run.before[w].consistency, after: run.after[w].consistency },
    accuracy: { before: run.before[w].accuracy, after: run.after[w].accuracy },
    pairs: run.before[w].pairs,
  }));
}

/** "L0H1" keys of the run's steered heads. */
export function chosenHeads(run: ConsistencyRun): Set<string> {
  return new Set((run.edit.site.heads ?? []).map((h) => `L${h.layer}H${h.head}`));
}
