"use client";
/**
 * The head form's semantic-consistency recipe (arXiv 2501.11041; docs/recipes.md): runs the
 * worker's `consistency` request — paraphrase pairs labelled by the model's own answers, a probe
 * per head on the train relations, the top-K heads steered — and shows the probe accuracy per
 * layer × head (steered heads outlined) and consistency / accuracy before and after on the train
 * and held-out relations. The form's Apply adds the run's head_steer edit to the stack.
 */
import { useState } from "react";
import { CONSISTENCY_PARAMS } from "@/lib/edit/consistency-params";
import type { ConsistencyRun } from "@/lib/edit/consistency-run";
import { percent } from "../format";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { chosenHeads, consistencyRows } from "./consistency-view";
import { HeadGrid } from "./HeadGrid";

type Setting = "k" | "alpha" | "seed" | "facts";

/** The recipe's settings (CONSISTENCY_PARAMS); K and α left empty are chosen by the recipe. */
const FIELDS: { name: Setting; label: string; auto?: boolean; step?: number }[] = [
  { name: "k", label: "K", auto: true },
  { name: "alpha", label: "α", auto: true, step: 0.5 },
  { name: "seed", label: "Seed" },
  { name: "facts", label: "Facts / relation" },
];

const PHASES = {
  locate: "Answering every paraphrase and probing every head",
  sweep: "Trying (K, α) on the train relations:",
  measure: "Measuring before and after",
} as const;

export function ConsistencyRecipe() {
  const P = CONSISTENCY_PARAMS;
  const modelName = useCauseway((s) => s.model.info?.name ?? null);
  const state = useCauseway((s) => s.consistency);
  const run = useCauseway((s) => s.runConsistency);
  const [vals, setVals] = useState<Record<Setting, number | null>>({
    k: null,
    alpha: null,
    seed: P.seed.default,
    facts: P.facts.default,
  });
  const result = state.model === modelName ? state.run : null;
  const num = (v: number | null) => (v === null || Number.isNaN(v) ? undefined : v);
  return (
    <div className="probe" data-testid="consistency-recipe">
      <small className="field__help">
        Pairs of paraphrases of each fact, labelled consistent when the model's own top-1 answers
        agree; a probe per head on the train relations; the top K heads steered along
        mean(consistent) − mean(inconsistent). Leave K or α empty to choose them on the train
        relations.
      </small>
      <div className="editform__grid">
        {FIELDS.map((f) => (
          <NumberField
            key={f.name}
            id={`cons-${f.name}`}
            label={f.label}
            value={vals[f.name]}
            onChange={(v) => setVals((x) => ({ ...x, [f.name]: v }))}
            param={P[f.name]}
            allowEmpty={f.auto}
            placeholder={f.auto ? "auto" : undefined}
            step={f.step}
          />
        ))}
      </div>
      <button
        type="button"
        className="btn btn--ghost"
        data-testid="consistency-run"
        disabled={state.status === "running"}
        onClick={() =>
          run({
            k: num(vals.k),
            alpha: num(vals.alpha),
            seed: num(vals.seed),
            facts: num(vals.facts),
          })
        }
      >
        {state.status === "running" ? "Running the recipe…" : "Run the consistency recipe"}
      </button>
      {state.status === "running" && state.progress ? (
        <small className="field__help" data-testid="consistency-progress">
          {PHASES[state.progress.phase]}
          {state.progress.phase === "sweep"
            ? ` ${state.progress.done + 1} of ${state.progress.total}`
            : ""}
          …
        </small>
      ) : null}
      {state.status === "error" && state.error ? (
        <p className="form-error" role="alert" data-testid="consistency-error">
          {state.error.message}
        </p>
      ) : null}
      {result ? <ConsistencyResult run={result} /> : null}
    </div>
  );
}

function ConsistencyResult({ run }: { run: ConsistencyRun }) {
  const chosen = chosenHeads(run);
  return (
    <>
      <table className="probe__table" data-testid="consistency-scores">
        <thead>
          <tr>
            <th />
            <th>consistency before → after</th>
            <th>accuracy before → after</th>
          </tr>
        </thead>
        <tbody>
          {consistencyRows(run).map((r) => (
            <tr key={r.split} data-testid={`consistency-${r.split}`}>
              <th title={r.relations.join(", ")}>{r.split}</th>
              <td data-before={r.consistency.before} data-after={r.consistency.after}>
                {percent(r.consistency.before)} → {percent(r.consistency.after)}
              </td>
              <td data-before={r.accuracy.before} data-after={r.accuracy.after}>
                {percent(r.accuracy.before)} → {percent(r.accuracy.after)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <small className="field__help" data-testid="consistency-choice">
        K {run.k}, α {run.alpha} (
        {run.chosen_by === "given" ? "given" : "chosen on the train relations"}):{" "}
        {[...chosen].join(", ")}. Held-out relations {run.relations.heldout.join(", ")}.
      </small>
      <div data-testid="consistency-grid">
        <HeadGrid accuracy={run.probe.accuracy} cellTestId="consistency-cell" outlined={chosen} />
      </div>
      <small className="field__help">
        Held-out-fact accuracy (%) of a logistic probe per head on [z(pᵢ); z(pⱼ)],{" "}
        {run.pairs.balanced} pairs balanced per template pair (of {run.pairs.all}); a probe on the
        template pair alone scores {percent(run.probe.format_accuracy)}.
      </small>
    </>
  );
}
