"use client";
/**
 * What the ABSC form shows of a run (lib/store/absc-slice.ts): the progress per method and step,
 * and the table `causeway absc` prints (lib/edit/absc-request.ts abscCells, one definition for
 * both), one row per method as it arrives, each with Apply: its learned edits onto the stack.
 */
import type { AbscRow } from "@/lib/edit/absc-request";
import { abscCells, abscSplitHeads } from "@/lib/edit/absc-request";
import { useCauseway } from "../StoreProvider";
import s from "./Absc.module.css";

export function AbscProgressLine() {
  const state = useCauseway((st) => st.absc);
  const p = state.progress;
  if (state.status === "cancelled") {
    return (
      <small className="field__help" data-testid="absc-progress" data-status="cancelled">
        Cancelled: {state.rows.length} of {state.request?.methods.length ?? 0} methods finished
        (their rows are kept).
      </small>
    );
  }
  if (state.status !== "running") return null;
  const text = !p
    ? "Measuring the model's accuracy before any training…"
    : p.done < p.total
      ? `${p.method} (${p.index + 1} of ${p.methods}): step ${p.done + 1} of ${p.total} · loss ${p.loss.toFixed(4)}`
      : `${p.method} (${p.index + 1} of ${p.methods}): trained (loss ${p.loss.toFixed(4)}), scoring the held-out reviews…`;
  return (
    <small className="field__help" data-testid="absc-progress" data-status="running">
      {text}
    </small>
  );
}

export function AbscTable() {
  const state = useCauseway((st) => st.absc);
  const modelName = useCauseway((st) => st.model.info?.name ?? null);
  if (state.rows.length === 0 || state.model !== modelName) return null;
  const r = state.request;
  return (
    <div className={s.result}>
      {r ? (
        <small className="field__help" data-testid="absc-settings">
          n_train {r.n_train}, {r.steps} steps, lr {r.lr}, rank {r.rank}, seed {r.seed}
        </small>
      ) : null}
      <div className={s.scroll}>
        <table className={s.table} data-testid="absc-table">
          <thead>
            <tr>
              <th>method</th>
              <th>layers</th>
              <th>params</th>
              <th>final loss</th>
              {abscSplitHeads(state.rows[0]).map((h) => (
                <th key={h}>{h}</th>
              ))}
              <th />
            </tr>
          </thead>
          <tbody>
            {state.rows.map((row) => (
              <AbscTableRow key={row.method} row={row} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function AbscTableRow({ row }: { row: AbscRow }) {
  const stack = useCauseway((st) => st.edits.stack);
  const setStack = useCauseway((st) => st.setEditStack);
  const c = abscCells(row);
  const apply = row.apply;
  const onStack = "edits" in apply && apply.edits.every((e) => stack.some((x) => x.id === e.id));
  return (
    <tr data-testid={`absc-row-${row.method}`}>
      <th>{c.method}</th>
      <td>{c.layers}</td>
      <td>{c.params}</td>
      <td>{c.loss}</td>
      {c.splits.map((x, i) => (
        <td
          key={row.splits[i].name}
          data-before={row.splits[i].before}
          data-after={row.splits[i].after}
        >
          {x}
        </td>
      ))}
      <td>
        {"edits" in apply ? (
          <button
            type="button"
            className="btn btn--ghost"
            disabled={onStack}
            title={`Adds ${apply.edits.map((e) => e.kind).join(" + ")} to the edit stack, as learned (trained on the model without edits)`}
            onClick={() => setStack([...stack, ...apply.edits])}
            data-testid={`absc-apply-${row.method}`}
          >
            {onStack ? "On the stack" : "Apply"}
          </button>
        ) : (
          <span className="field__aside" title={apply.reason}>
            not an edit of the stack
          </span>
        )}
      </td>
    </tr>
  );
}
