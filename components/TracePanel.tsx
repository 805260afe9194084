"use client";
/**
 * The causal-trace screen (ROME, docs/methods.md §0): settings, the run's status, the three heatmaps
 * (hidden states, MLP outputs, attention outputs) filling in as rows stream in with their export
 * menus, and the edited model's re-trace below them. A run that stops before computing anything
 * leaves the maps of the trace before it, and says so.
 */
import { useMemo } from "react";
import { defaultWindow, TRACE_KINDS, type TraceKind } from "@/lib/interp/spec";
import type { RunInfo, TraceResultState } from "@/lib/store";
import type { TraceSlice } from "@/lib/store/types";
import { traceCommand } from "@/lib/viz/cli";
import { fmtValue, visibleToken } from "@/lib/viz/format";
import { EditedTrace } from "./EditedTrace";
import { ExportMenus } from "./ExportMenu";
import { formForSite } from "./edit-forms/registry";
import { Heatmap } from "./Heatmap";
import { RunLine } from "./RunLine";
import { useCauseway } from "./StoreProvider";
import { TraceForm } from "./TraceForm";
import { useTraceDomain } from "./trace-domain";

export function TracePanel() {
  return (
    <section className="panel trace" aria-labelledby="trace-title" data-testid="trace-panel">
      <header className="panel__head">
        <h2 id="trace-title">Causal trace</h2>
        <span className="panel__note">
          corrupt the subject, restore one clean state at a time, watch the answer come back
        </span>
      </header>
      <TraceForm />
      <TraceRunInfo />
      <TraceMaps />
      <ExportMenus which="original" />
      <EditedTrace />
      <TraceCommand />
    </section>
  );
}

function TraceRunInfo() {
  const run = useCauseway((s) => s.trace.run);
  const result = useCauseway((s) => s.trace.result);
  const pending = useCauseway((s) => s.trace.pending);
  const first = result
    ? (result.kinds.map((k) => result.grids[k]).find((g) => g !== undefined) ?? null)
    : null;
  const b = first?.baseline ?? null;
  // the last run stopped before its first baseline: the maps are still the trace before it
  const previous =
    result !== null && pending !== null && (run.status === "error" || run.status === "cancelled");
  return (
    <div className="trace__info">
      <RunLine run={run} what="trace" owner="trace" />
      {previous ? (
        <p className="panel__note" aria-live="polite" data-testid="trace-previous">
          The maps below are still the previous trace (“{result.prompt}”): this run stopped before
          computing anything.
        </p>
      ) : null}
      {b ? (
        <dl className="facts" data-testid="trace-baseline">
          <div>
            <dt>answer</dt>
            <dd>
              <code className="tok">{visibleToken(b.answer.token)}</code>
              {b.answer.ids.length > 1 ? (
                <span className="facts__note"> {b.answer.ids.length} tokens</span>
              ) : null}
            </dd>
          </div>
          <div>
            <dt>clean (high)</dt>
            <dd data-testid="trace-high">{fmtValue(b.high)}</dd>
          </div>
          <div>
            <dt>corrupted (low)</dt>
            <dd data-testid="trace-low">{fmtValue(b.low)}</dd>
          </div>
          <div>
            <dt>corruption</dt>
            <dd>
              {b.corruption === "noise"
                ? `noise σ = ${b.noiseSigma !== null ? b.noiseSigma.toPrecision(3) : "?"} · ${b.samples} sample${b.samples === 1 ? "" : "s"}`
                : "counterfactual prompt"}
            </dd>
          </div>
        </dl>
      ) : null}
    </div>
  );
}

/** The command line that recomputes the trace on screen. */
function TraceCommand() {
  const result = useCauseway((s) => s.trace.result);
  const pending = useCauseway((s) => s.trace.pending);
  const status = useCauseway((s) => s.trace.run.status);
  const model = useCauseway((s) => s.model.info?.name ?? "tiny-facts");
  const command = traceCommandText({ result, pending, run: { status } }, model);
  if (!command) return null;
  return (
    <p className="cli-line" data-testid="trace-command">
      <span>Same numbers from the command line (wasm, within 1e-3):</span>
      <code>{command}</code>
    </p>
  );
}

/**
 * The command of the trace on screen, or null: none on screen, or the one on screen is what a
 * failed run left (its run reached a baseline, then failed: no pending result), which the command
 * would not give. A run that failed before its baseline left the previous trace, whose command
 * stays (reduceTrace).
 */
export function traceCommandText(
  trace: Pick<TraceSlice["trace"], "result" | "pending"> & { run: Pick<RunInfo, "status"> },
  model: string,
): string | null {
  if (!trace.result) return null;
  if (trace.run.status === "error" && trace.pending === null) return null;
  return traceCommand(trace.result.job, model);
}

/** Opens the edit form of a clicked cell of a trace map (ROME for MLP, steering for hidden). */
function useCellEdit(result: TraceResultState | null) {
  const open = useCauseway((s) => s.openEditForm);
  return (kind: TraceKind) => {
    const entry = formForSite(kind);
    if (!entry || !result?.tokens) return undefined;
    const tokens = result.tokens;
    const subject = result.subject
      ? tokens
          .slice(...result.subject)
          .join("")
          .trim()
      : undefined;
    return (row: number, col: number) =>
      open({
        form: entry.id,
        site: { layer: col, position: row, kind },
        prompt: result.prompt,
        subject,
      });
  };
}

function TraceMaps() {
  const result = useCauseway((s) => s.trace.result);
  const run = useCauseway((s) => s.trace.run);
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? 0);
  const settingsWindow = useCauseway((s) => s.trace.settings.window);
  const domain = useTraceDomain();
  const cellEdit = useCellEdit(result);
  const answer = useMemo(() => {
    const g = result ? TRACE_KINDS.map((k) => result.grids[k]).find((x) => x) : undefined;
    return g?.baseline.answer.token ?? null;
  }, [result]);
  const kinds: TraceKind[] = [...TRACE_KINDS];
  return (
    <div className="trace__maps" data-testid="trace-maps">
      {kinds.map((k) => {
        const grid = result?.grids[k];
        const requested = result ? result.kinds.includes(k) : true;
        const placeholder = !result
          ? "Run a trace to fill this in."
          : !requested
            ? "Not part of this run."
            : run.status === "running"
              ? "Waiting for the clean and corrupted runs…"
              : run.status === "error"
                ? "No result."
                : "Not reached.";
        return (
          <Heatmap
            key={k}
            kind={k}
            grid={grid}
            domain={domain}
            tokens={result?.tokens ?? null}
            subject={result?.subject ?? null}
            nLayer={nLayer}
            layerWindow={grid?.baseline.window ?? settingsWindow ?? defaultWindow(nLayer || 1)}
            placeholder={placeholder}
            off={!requested}
            answer={answer}
            onCellClick={grid ? cellEdit(k) : undefined}
          />
        );
      })}
    </div>
  );
}
