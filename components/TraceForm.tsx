"use client";
/**
 * The causal trace's settings: target, corruption (noise on the subject or a counterfactual
 * prompt), window, kinds, and the Run button, which is disabled with the reason beside it while
 * the settings cannot run (store checkTrace): a refused setting never reaches the worker, and
 * never erases the trace on screen.
 */
import { defaultWindow, TRACE_KINDS } from "@/lib/interp/spec";
import { TRACE_PARAMS } from "@/lib/params/table";
import { currentTokens, isActive } from "@/lib/store";
import { checkTrace } from "@/lib/store/trace-slice";
import { visibleToken } from "@/lib/viz/format";
import { KIND_TITLE } from "./Heatmap";
import { NumberField } from "./NumberField";
import { useCauseway } from "./StoreProvider";

export function TraceForm() {
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
  // why Run cannot run now (strings: a selector must return stable values)
  const blockedCode = useCauseway((s) => checkTrace(s)?.code ?? null);
  const blockedMessage = useCauseway((s) => checkTrace(s)?.message ?? null);
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
              param={TRACE_PARAMS.samples}
              onChange={(v) => set({ samples: v ?? Number.NaN })}
              testId="trace-samples"
            />
            <NumberField
              id="trace-noise"
              label="noise"
              value={st.noise}
              param={TRACE_PARAMS.noise}
              step={0.5}
              suffix="× σ"
              onChange={(v) => set({ noise: v ?? Number.NaN })}
              testId="trace-noise"
            />
            <NumberField
              id="trace-seed"
              label="seed"
              value={st.seed}
              param={TRACE_PARAMS.seed}
              onChange={(v) => set({ seed: v ?? Number.NaN })}
              testId="trace-seed"
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
          param={TRACE_PARAMS.window}
          allowEmpty
          placeholder={dflt !== null ? String(dflt) : ""}
          suffix={`layers${st.window === null && dflt !== null ? " (default)" : ""}`}
          onChange={(v) => set({ window: v })}
          testId="trace-window"
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
          disabled={!ready || blockedCode !== null}
          title={blockedMessage ?? undefined}
          aria-describedby={blockedMessage ? "trace-blocked" : undefined}
          data-testid="run-trace"
        >
          {running ? "Restart trace" : "Run trace"}
        </button>
        {blockedMessage ? (
          <output
            id="trace-blocked"
            className="trace__blocked"
            data-testid="trace-blocked"
            data-code={blockedCode}
          >
            Cannot run: {blockedMessage}
          </output>
        ) : null}
      </div>
      {/* the checks above cover every refusal but a worker that is not running */}
      {formError?.code === "worker_failed" && blockedCode === null ? (
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
