"use client";
/**
 * The question a link or session file must get an answer to before it loads a model from another
 * origin or the hub (lib/share/model-gate.ts): "This link wants to load <repo> from <origin>.
 * Load / Keep current model". A modal dialog; Escape keeps the current model. When the model is
 * kept (declined or refused), a line says so under the share bar.
 */
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import type { ForeignSource } from "@/lib/load/source-trust";
import type { ModelGateOptions } from "@/lib/share/model-gate";

interface Pending {
  ask: ForeignSource;
  from: "link" | "file";
  answer: (load: boolean) => void;
}

/** `gate(from)` for openSession, and the element that shows the question and the outcome. */
export function useModelGate(): {
  gate: (from: "link" | "file") => ModelGateOptions;
  element: ReactNode;
} {
  const [pending, setPending] = useState<Pending | null>(null);
  const [kept, setKept] = useState<string | null>(null);
  const current = useRef<Pending | null>(null);

  const gate = useCallback(
    (from: "link" | "file"): ModelGateOptions => ({
      confirmModel: (ask) =>
        new Promise<boolean>((resolve) => {
          current.current?.answer(false); // a newer link replaces an unanswered question
          const p: Pending = {
            ask,
            from,
            answer: (load) => {
              if (current.current === p) current.current = null;
              setPending((shown) => (shown === p ? null : shown));
              resolve(load);
            },
          };
          current.current = p;
          setKept(null);
          setPending(p);
        }),
      onModelKept: (reason) => setKept(reason),
    }),
    [],
  );

  const element = (
    <>
      {pending ? <ConfirmDialog pending={pending} /> : null}
      {kept ? (
        <output className="panel__note" data-testid="model-kept" style={{ display: "block" }}>
          {kept}
        </output>
      ) : null}
    </>
  );
  return { gate, element };
}

function ConfirmDialog({ pending }: { pending: Pending }) {
  const ref = useRef<HTMLDialogElement>(null);
  const { ask, from, answer } = pending;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  const what = from === "link" ? "This link" : "This session file";
  return (
    <dialog
      ref={ref}
      className="panel"
      aria-labelledby="model-confirm-title"
      data-testid="model-confirm"
      data-origin={ask.origin}
      data-repo={ask.repo}
      onCancel={(e) => {
        e.preventDefault();
        answer(false);
      }}
      style={{ maxWidth: 520, padding: "20px 22px" }}
    >
      <h2 id="model-confirm-title" style={{ fontSize: 16, margin: "0 0 10px" }}>
        Load a model from another site?
      </h2>
      <p style={{ margin: "0 0 8px" }} data-testid="model-confirm-text">
        {what} wants to load <code>{ask.repo}</code> from <strong>{ask.origin}</strong>.
      </p>
      <p className="panel__note" style={{ margin: "0 0 16px" }}>
        Its files would be downloaded from that address and run in this tab
        {ask.kind === "hub" ? " (hub models can be hundreds of MB)" : ""}. Load it only if you trust
        the address. Keeping the current model still opens the rest of the session.
      </p>
      <div style={{ display: "flex", gap: 8, justifyContent: "flex-end" }}>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={() => answer(false)}
          data-testid="model-confirm-keep"
          // biome-ignore lint/a11y/noAutofocus: the safe answer takes the focus in a modal
          autoFocus
        >
          Keep current model
        </button>
        <button
          type="button"
          className="btn btn--primary"
          onClick={() => answer(true)}
          data-testid="model-confirm-load"
        >
          Load
        </button>
      </div>
    </dialog>
  );
}
