"use client";
/**
 * The edit stack's rows: each edit with its on/off switch (the non-destructive way to compare:
 * an edit turned off keeps what was learned), description, learned diagnostics, ROME's
 * Measure, order and removal (which Undo reverts, learned values included).
 */
import { describeEdit, type Edit, isEnabled, isLearned } from "@/lib/edit/types";
import { learnedInfoItems } from "./edit-info";
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

/** The learned edit's diagnostics (./edit-info.ts says which). */
function LearnedInfo({ edit }: { edit: Edit }) {
  const items = learnedInfoItems(edit);
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
