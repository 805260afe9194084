"use client";
/**
 * The batch run on screen: its progress (C per layer, the unedited scores, each batch's
 * optimisation and scoring), the edits it put on the stack, its scores beside the unedited
 * model's, the sequential curve, and JSON / CSV exports with the CLI's fields and columns.
 */
import type { BatchRunResult } from "@/lib/batch-jobs";
import type { BatchState } from "@/lib/store/batch-slice";
import { downloadText } from "../download";
import { useCauseway } from "../StoreProvider";
import s from "./Batch.module.css";
import { batchCsv, batchJson } from "./batch-recipe";
import { SequentialCurve } from "./SequentialCurve";

const ROWS = [
  ["efficacy", "efficacy"],
  ["paraphrase", "paraphrase"],
  ["neighborhood", "neighbourhood"],
  ["score", "score (harmonic mean)"],
  ["efficacy_diff", "efficacy magnitude"],
  ["paraphrase_diff", "paraphrase magnitude"],
  ["neighborhood_diff", "neighbourhood magnitude"],
  ["fluency", "fluency"],
  ["general_text_ratio", "general-text loss ratio"],
] as const;

const f3 = (x: unknown) => (typeof x === "number" ? x.toFixed(3) : "–");

export function progressText(p: NonNullable<BatchState["progress"]>): string {
  switch (p.phase) {
    case "stats":
      return p.source
        ? `C of layer ${p.layer}: ${p.source} (${p.done} of ${p.total} layers)`
        : `C of layer ${p.layer} (${p.done + 1} of ${p.total} layers): ${p.texts ?? 0} of ${p.of ?? "?"} texts`;
    case "unedited":
      return `scoring the model before the run: case ${p.done + 1} of ${p.total}`;
    case "edit":
      return `batch ${p.done + 1} of ${p.total}: request ${(p.request_index ?? 0) + 1}, step ${(p.step ?? 0) + 1} of ${p.steps}, loss ${f3(p.loss)}`;
    case "learned":
      return `batch ${p.done} of ${p.total} learned; scoring`;
    case "score":
      return `batch ${p.done} of ${p.total} scored`;
  }
}

function Scores({ r }: { r: BatchRunResult }) {
  const unedited = { ...r.unedited, general_text_ratio: 1 } as Record<string, unknown>;
  const edited = r.edited as unknown as Record<string, unknown>;
  return (
    <table className={s.table} data-testid="batch-scores">
      <thead>
        <tr>
          <th>{r.n_cases} cases</th>
          <th>unedited</th>
          <th>{r.method}</th>
        </tr>
      </thead>
      <tbody>
        {ROWS.filter(([k]) => edited[k] !== null && edited[k] !== undefined).map(([k, label]) => (
          <tr key={k} data-score={k}>
            <td>{label}</td>
            <td>{f3(unedited[k])}</td>
            <td>{f3(edited[k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function BatchRun() {
  const b = useCauseway((st) => st.batch);
  if (b.status === "idle") return null;
  const base = `batch-${b.result?.method ?? "run"}-${b.result?.n_cases ?? 0}`;
  return (
    <div className={s.run} data-testid="batch-run-view" data-status={b.status}>
      {b.status === "running" ? (
        <p className="field__help" data-testid="batch-progress">
          {b.progress ? progressText(b.progress) : "starting…"}
        </p>
      ) : null}
      {b.note ? <p className="field__help">{b.note}</p> : null}
      {b.error ? (
        <p className="form-error" role="alert" data-testid="batch-run-error">
          {b.error.message}
        </p>
      ) : null}
      {b.status === "cancelled" ? <p className="field__help">Cancelled.</p> : null}
      {b.pushed > 0 ? (
        <p className="field__help" data-testid="batch-pushed">
          {b.pushed} learned edit{b.pushed === 1 ? "" : "s"} added to the edit stack
          {b.spec && !b.spec.sequential
            ? " (independent batches: each was learned and scored on the model without the others)"
            : ""}
          .
        </p>
      ) : null}
      {b.curve.length > 0 ? <SequentialCurve points={b.curve} /> : null}
      {b.result ? <Scores r={b.result} /> : null}
      {b.result && b.spec ? (
        <div className="editform__actions">
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() =>
              downloadText(batchJson(b.spec!, b.result!), `${base}.json`, "application/json")
            }
            data-testid="batch-export-json"
          >
            Export JSON
          </button>
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() => downloadText(batchCsv(b.result!), `${base}.csv`, "text/csv")}
            data-testid="batch-export-csv"
          >
            Export CSV
          </button>
        </div>
      ) : null}
    </div>
  );
}
