"use client";
/**
 * The causal-trace screen (ROME, docs/methods.md §0): settings, the run's status, and the three
 * heatmaps (hidden states, MLP outputs, attention outputs) filling in as rows stream in.
 */
import { useMemo } from "react";
import { defaultWindow, TRACE_KINDS, type TraceKind } from "@/lib/interp/spec";
import { currentTokens, isActive, type TraceResultState } from "@/lib/store";
import { traceCommand } from "@/lib/viz/cli";
import { fmtValue, visibleToken } from "@/lib/viz/format";
import { traceDomain } from "@/lib/viz/scales";
import { ExportMenus } from "./ExportMenu";
import { formForSite } from "./edit-forms/registry";
import { Heatmap, KIND_TITLE } from "./Heatmap";
import { NumberField } from "./NumberField";
import { RunLine } from "./RunLine";
import { useCauseway } from "./StoreProvider";

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
      <EditedTrace />
      <ExportMenus />
      <TraceCommand />
    </section>
  );
}

function TraceForm() {
  const st = useCauseway((s) => s.trace.settings);
  const formError = useCauseway((s) => s.trace.formError);
  const set = useCauseway((s) => s.setTraceSettings);
  const runTrace = useCauseway((s) => s.runTrace);
  const ready = useCauseway((s) => s.model.status === "ready");
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? null);
  const top = useCauseway((s) =>
    currentTokens(s) ? (s.predict.result?.top[0]?.token ?? null) : null,
  );
  const running = useCauseway((s) => isActive(s.trace.run));
  const dflt = nLayer !== null ? defaultWindow(nLayer) : null;

  return (
    <form
      className="trace__form"
      onSubmit={(e) => {
        e.preventDefault();
        runTrace();
      }}
    >
      <div className="field field--target">
        <label className="field__label" htmlFor="trace-target">
          Target
        </label>
        <input
          id="trace-target"
          className="field__input"
          value={st.target}
          onChange={(e) => set({ target: e.target.value })}
          placeholder={top !== null ? `${visibleToken(top)} (top-1)` : "top prediction"}
          spellCheck={false}
          data-testid="trace-target"
        />
        <small className="field__help">
          Empty: the model's top prediction. A target of several tokens is scored as the probability
          of the whole continuation.
        </small>
      </div>

      <fieldset className="field field--corruption">
        <legend className="field__label">Corruption</legend>
        <div className="seg">
          {(
            [
              ["noise", "Noise on the subject"],
              ["prompt", "Counterfactual prompt"],
            ] as const
          ).map(([mode, label]) => (
            <label
              key={mode}
              className={`seg__btn${st.corruption === mode ? " seg__btn--on" : ""}`}
            >
              <input
                type="radio"
                name="trace-corruption"
                value={mode}
                checked={st.corruption === mode}
                onChange={() => set({ corruption: mode })}
                data-testid={`corruption-${mode}`}
              />
              {label}
            </label>
          ))}
        </div>
        {st.corruption === "noise" ? (
          <div className="field__row">
            <NumberField
              id="trace-samples"
              label="samples"
              value={st.samples}
              min={1}
              onChange={(v) => set({ samples: v ?? Number.NaN })}
              testId="trace-samples"
              width={52}
            />
            <NumberField
              id="trace-noise"
              label="noise"
              value={st.noise}
              min={0}
              step={0.5}
              suffix="× σ"
              onChange={(v) => set({ noise: v ?? Number.NaN })}
              testId="trace-noise"
              width={52}
            />
            <NumberField
              id="trace-seed"
              label="seed"
              value={st.seed}
              min={0}
              onChange={(v) => set({ seed: v ?? Number.NaN })}
              testId="trace-seed"
              width={56}
            />
          </div>
        ) : (
          <input
            className="field__input"
            value={st.counterfactual}
            onChange={(e) => set({ counterfactual: e.target.value })}
            placeholder="same number of tokens, another subject"
            spellCheck={false}
            aria-label="Counterfactual prompt"
            data-testid="trace-counterfactual"
          />
        )}
        <small className="field__help">
          {st.corruption === "noise"
            ? "Gaussian noise on the subject's token embeddings, σ = multiplier × std of the embeddings (ROME: 3 × σ, 10 samples)."
            : "The corrupted run reads this prompt instead; it must have as many tokens as the prompt."}
        </small>
      </fieldset>

      <div className="field field--window">
        <label className="field__label" htmlFor="trace-window">
          Window
        </label>
        <NumberField
          id="trace-window"
          label=""
          value={st.window}
          min={1}
          allowEmpty
          placeholder={dflt !== null ? String(dflt) : ""}
          suffix={`layers${st.window === null && dflt !== null ? " (default)" : ""}`}
          onChange={(v) => set({ window: v })}
          testId="trace-window"
          width={54}
        />
        <small className="field__help">
          MLP and attention restore a window of layers around each one. Default{" "}
          {dflt !== null ? <strong data-testid="trace-window-default">{dflt}</strong> : "—"} for{" "}
          {nLayer ?? "?"} layers: it scales with depth (ROME used 10 of 48).
        </small>
      </div>

      <fieldset className="field field--kinds">
        <legend className="field__label">Restore</legend>
        <div className="kinds">
          {TRACE_KINDS.map((k) => (
            <label key={k} className={`kind kind--${k}`}>
              <input
                type="checkbox"
                checked={st.kinds.includes(k)}
                onChange={(e) =>
                  set({
                    kinds: e.target.checked
                      ? TRACE_KINDS.filter((x) => x === k || st.kinds.includes(x))
                      : st.kinds.filter((x) => x !== k),
                  })
                }
                data-testid={`kind-${k}`}
              />
              <span>{KIND_TITLE[k]}</span>
            </label>
          ))}
        </div>
      </fieldset>

      <div className="trace__actions">
        <button
          type="submit"
          className="btn btn--primary"
          disabled={!ready}
          data-testid="run-trace"
        >
          {running ? "Restart trace" : "Run trace"}
        </button>
      </div>
      {formError ? (
        <p
          className="form-error"
          role="alert"
          data-testid="trace-form-error"
          data-code={formError.code}
        >
          {formError.message}
        </p>
      ) : null}
    </form>
  );
}

function TraceRunInfo() {
  const run = useCauseway((s) => s.trace.run);
  const result = useCauseway((s) => s.trace.result);
  const first = result
    ? (result.kinds.map((k) => result.grids[k]).find((g) => g !== undefined) ?? null)
    : null;
  const b = first?.baseline ?? null;
  return (
    <div className="trace__info">
      <RunLine run={run} what="trace" owner="trace" />
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
  const job = useCauseway((s) => s.trace.result?.job ?? null);
  const model = useCauseway((s) => s.model.info?.name ?? "tiny-facts");
  if (!job) return null;
  return (
    <p className="cli-line" data-testid="trace-command">
      <span>Same numbers from the command line (wasm, within 1e-3):</span>
      <code>{traceCommand(job, model)}</code>
    </p>
  );
}

/** One colour scale for the maps of a trace and of its edited re-trace: [min low, max top]. */
function useTraceDomain(): [number, number] | null {
  const result = useCauseway((s) => s.trace.result);
  const edited = useCauseway((s) =>
    s.compare.original === s.trace.result ? s.compare.edited : null,
  );
  return useMemo(() => {
    const grids = [result, edited].flatMap((r) =>
      r ? TRACE_KINDS.map((k) => r.grids[k]).filter((g) => g !== undefined) : [],
    );
    if (grids.length === 0) return null;
    let low = grids[0].baseline.low;
    let top = grids[0].baseline.high;
    for (const g of grids) {
      low = Math.min(low, g.baseline.low);
      top = Math.max(top, traceDomain(g.baseline.low, g.baseline.high, g.values)[1]);
    }
    return [low, top] as [number, number];
  }, [result, edited]);
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

/** The re-trace of the edited model, under the original's maps and on their colour scale. */
function EditedTrace() {
  const result = useCauseway((s) => s.trace.result);
  const compare = useCauseway((s) => s.compare);
  const retrace = useCauseway((s) => s.retraceEdited);
  const close = useCauseway((s) => s.closeCompare);
  const hasEdits = useCauseway((s) => s.edits.stack.some((e) => e.enabled !== false));
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? 0);
  const domain = useTraceDomain();
  const edited = compare.original === result ? compare.edited : null;
  if (!result || (!hasEdits && !edited)) return null;
  return (
    <div className="trace__edited" data-testid="trace-edited">
      <div className="trace__edited-head">
        <button
          type="button"
          className="btn btn--primary"
          onClick={retrace}
          disabled={isActive(compare.run)}
          data-testid="retrace-edited"
        >
          Re-trace edited model
        </button>
        {edited ? (
          <button type="button" className="btn btn--ghost" onClick={close}>
            Hide
          </button>
        ) : null}
        <span className="panel__note">
          the same trace on the model with the edit stack; the maps above are the original model
        </span>
      </div>
      {compare.error ? (
        <p className="form-error" role="alert" data-testid="retrace-error">
          {compare.error.message}
        </p>
      ) : null}
      {edited ? (
        <>
          <RunLine run={compare.run} what="edited trace" owner="compare" />
          <h3 className="trace__edited-title">Edited model</h3>
          <div className="trace__maps" data-testid="trace-maps-edited">
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
                  placeholder={isActive(compare.run) ? "Tracing the edited model…" : "No result."}
                  answer={grid?.baseline.answer.token ?? null}
                />
              );
            })}
          </div>
        </>
      ) : null}
    </div>
  );
}
