"use client";
/**
 * The re-trace of the edited model, under the original's maps and on their colour scale, with
 * its own export menus. The result carries the edit stack it was computed with: once the stack
 * changes (undo, redo, on/off, a new edit) the maps are marked out of date, dimmed, until the
 * next re-trace; "Re-trace edited model" is disabled, with the reason, while it cannot run (no
 * edit on, learning, a trace running).
 */
import { defaultWindow } from "@/lib/interp/spec";
import { isActive } from "@/lib/store";
import { checkRetrace, isCompareStale } from "@/lib/store/compare-slice";
import { ExportMenus } from "./ExportMenu";
import { Heatmap } from "./Heatmap";
import { RunLine } from "./RunLine";
import { useCauseway } from "./StoreProvider";
import { useTraceDomain } from "./trace-domain";

export function EditedTrace() {
  const result = useCauseway((s) => s.trace.result);
  const compare = useCauseway((s) => s.compare);
  const retrace = useCauseway((s) => s.retraceEdited);
  const close = useCauseway((s) => s.closeCompare);
  const hasEdits = useCauseway((s) => s.edits.stack.some((e) => e.enabled !== false));
  const stale = useCauseway(isCompareStale);
  const blockedCode = useCauseway((s) => checkRetrace(s)?.code ?? null);
  const blockedMessage = useCauseway((s) => checkRetrace(s)?.message ?? null);
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? 0);
  const domain = useTraceDomain();
  const edited = compare.original === result ? compare.edited : null;
  if (!result || (!hasEdits && !edited)) return null;
  const running = isActive(compare.run);
  // "no trace" is said by the trace panel itself; the others are said here
  const reason = running || blockedCode === "no_trace" ? null : blockedMessage;
  return (
    <div className="trace__edited" data-testid="trace-edited">
      <div className="trace__edited-head">
        <button
          type="button"
          className="btn btn--primary"
          onClick={retrace}
          disabled={running || blockedCode !== null}
          title={reason ?? undefined}
          data-testid="retrace-edited"
        >
          {edited && stale ? "Re-trace with the current edits" : "Re-trace edited model"}
        </button>
        {edited ? (
          <button type="button" className="btn btn--ghost" onClick={close}>
            Hide
          </button>
        ) : null}
        {reason ? (
          <output className="trace__blocked" data-testid="retrace-blocked" data-code={blockedCode}>
            Cannot re-trace: {reason}
          </output>
        ) : (
          <span className="panel__note">
            the same trace on the model with the edit stack; the maps above are the original model
          </span>
        )}
      </div>
      {compare.error && compare.error.code !== blockedCode ? (
        <p className="form-error" role="alert" data-testid="retrace-error">
          {compare.error.message}
        </p>
      ) : null}
      {edited ? (
        <>
          <RunLine run={compare.run} what="edited trace" owner="compare" />
          <h3 className="trace__edited-title">
            Edited model
            {stale ? <span className="trace__stale-tag"> · out of date</span> : null}
          </h3>
          {stale ? (
            <p className="trace__stale" aria-live="polite" data-testid="edited-stale">
              These maps were computed with an earlier edit stack; the edits have changed since
              {hasEdits ? "" : " (no edit is on now)"}. Re-trace to see the current edited model.
            </p>
          ) : null}
          <div
            className={`trace__maps${stale ? " trace__maps--stale" : ""}`}
            data-testid="trace-maps-edited"
            data-stale={stale}
          >
            {edited.kinds.map((k) => {
              const grid = edited.grids[k];
              return (
                <Heatmap
                  key={k}
                  kind={k}
                  variant="edited"
                  grid={grid}
                  domain={domain}
                  tokens={edited.tokens}
                  subject={edited.subject}
                  nLayer={nLayer}
                  layerWindow={grid?.baseline.window ?? defaultWindow(nLayer || 1)}
                  placeholder={running ? "Tracing the edited model…" : "No result."}
                  answer={grid?.baseline.answer.token ?? null}
                />
              );
            })}
          </div>
          <ExportMenus which="edited" />
        </>
      ) : null}
    </div>
  );
}
