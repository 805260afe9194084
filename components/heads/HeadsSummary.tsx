"use client";
/** The heads tab's one-line summary: the strongest induction head of the last run. */
import { useCauseway } from "../StoreProvider";
import { RunSummary } from "../views/RunSummary";

export function HeadsSummary() {
  const run = useCauseway((s) => s.heads.run);
  const scores = useCauseway((s) => s.heads.scores);
  let found = "done";
  const ind = scores?.scores.induction;
  if (ind) {
    let best = { v: -1, l: 0, h: 0 };
    ind.forEach((row, l) => {
      row.forEach((v, h) => {
        if (v > best.v) best = { v, l, h };
      });
    });
    found = `induction L${best.l}H${best.h} ${best.v.toFixed(2).replace(/^0\./, ".")}`;
  }
  return <RunSummary run={run} found={found} />;
}
