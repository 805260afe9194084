"use client";
/**
 * The edit stack's rows: each edit with its on/off switch (the non-destructive way to compare:
 * an edit turned off keeps what was learned), description, learned diagnostics, ROME's
 * Measure, order and removal (which Undo reverts, learned values included).
 */
import { describeEdit, type Edit, isEnabled, isLearned } from "@/lib/edit/types";
import { useCauseway } from "./StoreProvider";

export function EditStack() {
  const stack = useCauseway((s) => s.edits.stack);
  const status = useCauseway((s) => s.edits.status);
  const toggle = useCauseway((s) => s.toggleEdit);
  const move = useCauseway((s) => s.moveEdit);
  const remove = useCauseway((s) => s.removeEdit);
  const evalEdit = useCauseway((s) => s.evalEdit);
  return (
    <ol className="edits__list" data-testid="edit-stack">
      {stack.map((e, i) => (
        <li
          key={e.id}
          className={`edits__row${isEnabled(e) ? "" : " edits__row--off"}`}
          data-testid="edit-row"
          data-kind={e.kind}
          data-learned={isLearned(e)}
        >
          <label
            className={`switch${isEnabled(e) ? " switch--on" : ""}`}
            title={
              isEnabled(e)
                ? "Turn this edit off: the model goes back, the edit (and what was learned) stays here"
                : "Turn this edit on again (nothing is relearned)"
            }
          >
            <input
              type="checkbox"
              role="switch"
              aria-checked={isEnabled(e)}
              checked={isEnabled(e)}
              onChange={() => toggle(e.id!)}
              aria-label={`Edit ${i + 1} on`}
              data-testid="edit-enabled"
            />
            <span className="switch__text">{isEnabled(e) ? "on" : "off"}</span>
          </label>
          <span className="edits__desc">
            {describeEdit(e)}
            {!isLearned(e) && isEnabled(e) ? (
              <em className="edits__pending">
                {status === "learning" ? " learning…" : " not learned"}
              </em>
            ) : null}
            {!isEnabled(e) ? (
              <em className="edits__pending" data-testid="edit-off-note">
                {" "}
                off: kept{isLearned(e) ? " with what was learned" : ""}, changes nothing
              </em>
            ) : null}
          </span>
          <LearnedInfo edit={e} />
          <span className="edits__buttons">
            {e.kind === "rome" && isLearned(e) && isEnabled(e) ? (
              <button
                type="button"
                className="btn btn--ghost btn--small"
                onClick={() => evalEdit(i)}
              >
                Measure
              </button>
            ) : null}
            <button
              type="button"
              className="btn btn--ghost btn--small"
              onClick={() => move(e.id!, -1)}
              disabled={i === 0}
              aria-label="Move up"
            >
              ↑
            </button>
            <button
              type="button"
              className="btn btn--ghost btn--small"
              onClick={() => move(e.id!, 1)}
              disabled={i === stack.length - 1}
              aria-label="Move down"
            >
              ↓
            </button>
            <button
              type="button"
              className="btn btn--ghost btn--small edits__remove"
              onClick={() => remove(e.id!)}
              aria-label="Remove"
              title="Remove from the stack (Undo brings it back, learned; to keep it, turn it off)"
              data-testid="edit-remove"
            >
              ✕
            </button>
          </span>
        </li>
      ))}
    </ol>
  );
}

/** Scalar diagnostics of any learned edit's `info` (and a few learned scalars), generically. */
function LearnedInfo({ edit }: { edit: Edit }) {
  const learned = (edit as { learned?: Record<string, unknown> }).learned;
  if (!learned) return null;
  const info = (learned.info ?? {}) as Record<string, unknown>;
  const items: [string, string][] = [];
  for (const [k, v] of Object.entries(info)) {
    if (typeof v === "number" && Number.isFinite(v)) items.push([k, fmtNumber(v)]);
    else if (typeof v === "string" && v.length < 40) items.push([k, v]);
    else if (Array.isArray(v) && v.length > 0 && typeof v[0] === "object" && v[0] !== null) {
      const last = v[v.length - 1] as Record<string, unknown>;
      for (const key of ["loss", "p_new"]) {
        if (typeof last[key] === "number")
          items.push([`final ${key}`, fmtNumber(last[key] as number)]);
      }
    }
  }
  for (const k of ["norm", "sigma"]) {
    if (typeof learned[k] === "number") items.push([k, fmtNumber(learned[k] as number)]);
  }
  if (items.length === 0) return null;
  return (
    <span className="edits__info" data-testid="edit-info">
      {items.slice(0, 8).map(([k, v]) => (
        <span key={k}>
          {k.replace(/_/g, " ")} <b>{v}</b>
        </span>
      ))}
    </span>
  );
}

function fmtNumber(x: number): string {
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  return Math.abs(x) >= 1000 || Math.abs(x) < 1e-3 ? x.toExponential(2) : x.toPrecision(3);
}
