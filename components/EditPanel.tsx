"use client";
/**
 * The edit stack: each edit with its description, on/off, order and removal (EditStack.tsx);
 * undo and redo (exact: a learned edit comes back learned, never relearned); the learning
 * progress with the loss (and ROME's p_new) curve as it streams; learned diagnostics shown
 * generically; ROME's CounterFact measures on request; and the form of the edit being made
 * (opened by a click on a heatmap cell or a head, or from the "Add edit" buttons).
 */
import { useEffect, useRef, useState } from "react";
import { EditStack } from "./EditStack";
import { EDIT_FORMS } from "./edit-forms/registry";
import { learningText } from "./progress-text";
import { useCauseway } from "./StoreProvider";
import { useTicker } from "./useTicker";

export function EditPanel() {
  const count = useCauseway((s) => s.edits.stack.length);
  return (
    <section className="panel edits" aria-labelledby="edits-title" data-testid="edit-panel">
      <header className="panel__head">
        <h2 id="edits-title">Edits</h2>
        <span className="panel__note">
          click an MLP cell (ROME), a hidden-state cell (steering) or a head to edit the model;
          predictions and re-traces then show original and edited side by side
        </span>
      </header>
      <EditForm />
      <EditStatus />
      {count > 0 ? <EditStack /> : <p className="edits__empty">No edits yet.</p>}
      <EditEvalView />
    </section>
  );
}

function EditForm() {
  const form = useCauseway((s) => s.editForm);
  const open = useCauseway((s) => s.openEditForm);
  const close = useCauseway((s) => s.closeEditForm);
  const add = useCauseway((s) => s.addEdit);
  const prompt = useCauseway((s) => s.predict.prompt);
  const subject = useCauseway((s) => s.trace.settings.subjectText);
  const ref = useRef<HTMLDivElement>(null);
  const entry = form ? EDIT_FORMS.find((f) => f.id === form.form) : undefined;
  useEffect(() => {
    if (form) ref.current?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
  }, [form]);
  return (
    <div ref={ref}>
      <div className="edits__add" role="toolbar" aria-label="Add an edit">
        {EDIT_FORMS.map((f) => (
          <button
            key={f.id}
            type="button"
            className={`btn btn--ghost${form?.form === f.id ? " btn--on" : ""}`}
            onClick={() => open({ form: f.id, site: {}, prompt, subject: subject || undefined })}
            data-testid={`add-edit-${f.id}`}
          >
            + {f.label}
          </button>
        ))}
      </div>
      {form && entry ? (
        <entry.component
          // a new click opens a fresh form
          key={JSON.stringify(form)}
          site={form.site}
          prompt={form.prompt}
          subject={form.subject}
          onAdd={(e) => {
            add(e);
            close();
          }}
          onCancel={close}
        />
      ) : null}
    </div>
  );
}

function EditStatus() {
  const status = useCauseway((s) => s.edits.status);
  const progress = useCauseway((s) => s.edits.progress);
  const curve = useCauseway((s) => s.edits.curve);
  const error = useCauseway((s) => s.edits.error);
  const canUndo = useCauseway((s) => s.edits.history.length > 0);
  const canRedo = useCauseway((s) => s.edits.future.length > 0);
  const undo = useCauseway((s) => s.undoEdits);
  const redo = useCauseway((s) => s.redoEdits);
  const cancel = useCauseway((s) => s.cancelLearning);
  // the time since learning started, ticking: a long phase is never a frozen line
  const [since, setSince] = useState<number | null>(null);
  useEffect(() => setSince(status === "learning" ? performance.now() : null), [status]);
  const now = useTicker(status === "learning");
  const elapsedMs = since !== null ? now - since : null;
  return (
    <div className="edits__status" data-testid="edits-status" data-status={status}>
      <button
        type="button"
        className="btn btn--ghost"
        onClick={undo}
        disabled={!canUndo}
        title="Undo the last change to the stack (Redo brings it back, learned values included)"
        data-testid="edits-undo"
      >
        ↶ Undo
      </button>
      <button
        type="button"
        className="btn btn--ghost"
        onClick={redo}
        disabled={!canRedo}
        title="Redo the change undone last, exactly as it was (nothing is relearned)"
        data-testid="edits-redo"
      >
        ↷ Redo
      </button>
      <span className="edits__state" data-testid="edits-state">
        {status === "learning"
          ? learningText(progress, elapsedMs)
          : status === "ready"
            ? "Applied."
            : ""}
      </span>
      {status === "learning" ? (
        <button
          type="button"
          className="btn btn--ghost"
          onClick={cancel}
          title="Stop learning; the stack goes back to the one applied before"
          data-testid="edits-cancel"
        >
          Cancel
        </button>
      ) : null}
      {curve.length > 1 ? <LossCurve points={curve} /> : null}
      {error ? (
        <p className="form-error" role="alert" data-testid="edits-error">
          {error.message}
        </p>
      ) : null}
    </div>
  );
}

/** The loss (and p_new, on a 0–1 axis) of the edit being learned, step by step. */
function LossCurve({ points }: { points: { step: number; loss: number; pNew?: number }[] }) {
  const W = 220;
  const H = 60;
  const maxStep = Math.max(...points.map((p) => p.step), 1);
  const maxLoss = Math.max(...points.map((p) => p.loss), 1e-9);
  const x = (s: number) => (s / maxStep) * (W - 4) + 2;
  const line = (f: (p: (typeof points)[number]) => number | undefined) =>
    points
      .filter((p) => f(p) !== undefined)
      .map(
        (p, i) =>
          `${i === 0 ? "M" : "L"}${x(p.step).toFixed(1)},${(H - 2 - f(p)! * (H - 4)).toFixed(1)}`,
      )
      .join("");
  return (
    <svg
      className="edits__curve"
      width={W}
      height={H}
      role="img"
      aria-label="learning curve"
      data-testid="edits-curve"
    >
      <path d={line((p) => p.loss / maxLoss)} className="edits__loss" />
      <path d={line((p) => p.pNew)} className="edits__pnew" />
      <text x={W - 2} y={10} textAnchor="end" className="edits__legend">
        loss (—) · p(new) (- -)
      </text>
    </svg>
  );
}

function EditEvalView() {
  const ev = useCauseway((s) => s.editEval);
  const cancel = useCauseway((s) => s.cancelEval);
  if (ev.status === "idle") return null;
  const r = ev.result;
  const pct = (x: number | null | undefined) =>
    x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`;
  return (
    <div className="edits__eval" data-testid="edit-eval" data-status={ev.status}>
      <h3 className="editform__title">
        Measures of edit {ev.index !== null ? ev.index + 1 : "?"}
        {ev.status === "running" ? (
          <>
            {" "}
            <span className="panel__note">
              {ev.progress ? `${ev.progress.phase} ${ev.progress.done}/${ev.progress.total}` : "…"}
            </span>{" "}
            <button type="button" className="btn btn--ghost btn--small" onClick={cancel}>
              Cancel
            </button>
          </>
        ) : null}
      </h3>
      {ev.error ? <p className="form-error">{ev.error.message}</p> : null}
      {ev.status === "cancelled" ? <p className="panel__note">Cancelled.</p> : null}
      {r ? (
        <>
          <table className="edits__table">
            <thead>
              <tr>
                <th />
                <th>efficacy</th>
                <th>paraphrase</th>
                <th>neighbourhood</th>
                <th>score</th>
              </tr>
            </thead>
            <tbody>
              {(
                [
                  ["original", r.original],
                  ["edited", r.edited],
                ] as const
              ).map(([name, s]) => (
                <tr key={name}>
                  <th>{name}</th>
                  <td>{pct(s?.efficacy)}</td>
                  <td>{pct(s?.paraphrase)}</td>
                  <td>{pct(s?.neighborhood)}</td>
                  <td>{pct(s?.score)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="panel__note">
            {r.source === "counterfact"
              ? "CounterFact case of the dataset."
              : "Case made from the edit."}
            {r.generalText
              ? ` General-text loss ${r.generalText.original.toFixed(3)} → ${r.generalText.edited.toFixed(3)} (× ${r.generalText.ratio.toFixed(4)}, ${r.generalText.texts} texts).`
              : ""}
            {r.note ? ` Note: ${r.note}.` : ""}
          </p>
        </>
      ) : null}
    </div>
  );
}
