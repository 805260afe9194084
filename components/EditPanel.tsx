"use client";
/**
 * The edit stack: each edit with its description, on/off, order and removal; undo; the learning
 * progress with the loss (and ROME's p_new) curve as it streams; learned diagnostics shown
 * generically; ROME's CounterFact measures on request; and the form of the edit being made
 * (opened by a click on a heatmap cell or a head, or from the "Add edit" buttons).
 */
import { useEffect, useRef } from "react";
import { describeEdit, type Edit, isEnabled, isLearned } from "@/lib/edit/types";
import { fmtValue } from "@/lib/viz/format";
import { EDIT_FORMS } from "./edit-forms/registry";
import { useCauseway } from "./StoreProvider";

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
  const undo = useCauseway((s) => s.undoEdits);
  const cancel = useCauseway((s) => s.cancelLearning);
  return (
    <div className="edits__status" data-testid="edits-status" data-status={status}>
      <button
        type="button"
        className="btn btn--ghost"
        onClick={undo}
        disabled={!canUndo}
        data-testid="edits-undo"
      >
        ↶ Undo
      </button>
      <span className="edits__state">
        {status === "learning"
          ? progress
            ? `Learning edit ${progress.index + 1}: step ${progress.step}/${progress.total}${progress.loss !== undefined ? ` · loss ${progress.loss.toFixed(3)}` : ""}${progress.pNew !== undefined ? ` · p(new) ${fmtValue(progress.pNew)}` : ""}`
            : "Learning…"
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

function EditStack() {
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
          <input
            type="checkbox"
            checked={isEnabled(e)}
            onChange={() => toggle(e.id!)}
            aria-label={`Edit ${i + 1} on`}
            data-testid="edit-enabled"
          />
          <span className="edits__desc">
            {describeEdit(e)}
            {!isLearned(e) && isEnabled(e) ? (
              <em className="edits__pending">
                {status === "learning" ? " learning…" : " not learned"}
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
              className="btn btn--ghost btn--small"
              onClick={() => remove(e.id!)}
              aria-label="Remove"
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
