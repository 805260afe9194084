"use client";
/**
 * Top-k next-token predictions as horizontal bars on an absolute 0–100 % probability scale.
 * While a prediction is computed the time so far ticks (the first one after a load compiles the
 * model's GPU kernels: tens of seconds under SwiftShader), so a slow answer is never silent.
 */
import { useEffect, useState } from "react";
import type { TokenProb } from "@/lib/protocol";
import { WORKER_STOPPED } from "@/lib/store/errors";
import type { CausewayState, PredictStatus } from "@/lib/store/types";
import { isWorkerStopped } from "@/lib/store/worker-restart";
import { exactProb, percent, visibleToken } from "./format";
import { elapsedText } from "./progress-text";
import { useCauseway } from "./StoreProvider";
import { useTicker } from "./useTicker";

const TICKS = [0, 0.25, 0.5, 0.75, 1];

export function PredictionBars() {
  const result = useCauseway((s) => s.predict.result);
  /** Set while the edit stack changes the model: the original model's prediction. */
  const original = useCauseway((s) => s.predict.original);
  const resultPrompt = useCauseway((s) => s.predict.resultPrompt);
  const status = useCauseway((s) => s.predict.status);
  const modelStatus = useCauseway((s) => s.model.status);
  const modelError = useCauseway((s) => s.model.error);
  const ms = useCauseway((s) => s.predict.ms);
  const stale = status === "pending" || status === "error";
  const [since, setSince] = useState<number | null>(null);
  useEffect(() => setSince(status === "pending" ? performance.now() : null), [status]);
  const now = useTicker(status === "pending");
  const elapsed = since !== null ? elapsedText(now - since) : "";

  return (
    <section className="panel preds" aria-labelledby="preds-title">
      <header className="panel__head">
        <h2 id="preds-title">Next token</h2>
        <span className="panel__note" data-testid="predict-status" data-status={status}>
          {status === "pending"
            ? `computing…${elapsed ? ` ${elapsed}` : ""}`
            : status === "ok" && ms !== null
              ? `top ${result?.top.length ?? 0} · ${ms.toFixed(0)} ms`
              : ""}
        </span>
      </header>
      {result ? (
        <div className={`preds__body${stale ? " preds__body--stale" : ""}`}>
          {original ? <h3 className="preds__variant">edited model</h3> : null}
          <Bars
            top={result.top}
            testId="predictions"
            prompt={resultPrompt ?? ""}
            busy={status === "pending"}
          />
          {original ? (
            <>
              <h3 className="preds__variant">original model</h3>
              <Bars
                top={original.top}
                testId="predictions-original"
                prompt={resultPrompt ?? ""}
                busy={status === "pending"}
              />
            </>
          ) : null}
          <div className="preds__axis" aria-hidden="true">
            {TICKS.map((t) => (
              <span key={t} style={{ left: `${t * 100}%` }}>
                {t * 100}%
              </span>
            ))}
          </div>
        </div>
      ) : (
        <p className="preds__empty" data-testid="predictions-empty">
          {predictionsEmptyText({
            model: { status: modelStatus, error: modelError },
            status,
            elapsed,
          })}
        </p>
      )}
    </section>
  );
}

/**
 * What the panel says before any bars were shown. A stopped worker says so and names the restart
 * (lib/store/errors.ts WORKER_STOPPED, as every Run button's reason): the model is not lost.
 */
export function predictionsEmptyText({
  model,
  status,
  elapsed,
}: {
  model: Pick<CausewayState["model"], "status" | "error">;
  status: PredictStatus;
  /** Time so far of a pending prediction ("" under a second). */
  elapsed: string;
}): string {
  if (model.status === "loading") return "Loading the model…";
  if (isWorkerStopped(model)) return WORKER_STOPPED.message;
  if (model.status === "error") return "No model loaded.";
  if (status === "pending")
    return `Computing…${elapsed ? ` ${elapsed} so far (the first prediction after a load compiles the model's kernels)` : ""}`;
  if (status === "error") return "No predictions for this prompt.";
  return "Type a prompt to see what the model predicts next.";
}

function Bars({
  top,
  testId,
  prompt,
  busy,
}: {
  top: TokenProb[];
  testId: string;
  prompt: string;
  busy: boolean;
}) {
  return (
    <ol className="preds__list" data-testid={testId} data-prompt={prompt} aria-busy={busy}>
      {top.map((t, i) => (
        <li
          key={t.id}
          className="preds__row"
          data-testid="prediction-row"
          data-token-id={t.id}
          data-prob={t.prob}
        >
          <span className="preds__rank">{i + 1}</span>
          <span className="preds__tok" title={`id ${t.id} · ${JSON.stringify(t.token)}`}>
            {visibleToken(t.token)}
          </span>
          <span className="preds__track">
            <span className="preds__bar" style={{ width: `${Math.max(t.prob * 100, 0.3)}%` }} />
          </span>
          <span className="preds__prob" title={`p = ${exactProb(t.prob)}`}>
            {percent(t.prob)}
          </span>
        </li>
      ))}
    </ol>
  );
}
