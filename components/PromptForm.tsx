"use client";
/** The prompt box: predictions follow the text as it is typed (debounced, latest wins). */
import { useCauseway } from "./StoreProvider";

export function PromptForm({ examples }: { examples: readonly string[] }) {
  const prompt = useCauseway((s) => s.predict.prompt);
  const error = useCauseway((s) => s.predict.error);
  const status = useCauseway((s) => s.predict.status);
  const nTokens = useCauseway((s) => s.predict.result?.inputIds.length ?? null);
  const nCtx = useCauseway((s) => s.model.info?.config.nCtx ?? null);
  const setPrompt = useCauseway((s) => s.setPrompt);
  const runPrediction = useCauseway((s) => s.runPrediction);
  const showError = status === "error" && error !== null;

  return (
    <form
      className="prompt"
      onSubmit={(e) => {
        e.preventDefault();
        runPrediction();
      }}
    >
      <label className="eyebrow" htmlFor="prompt">
        Prompt
      </label>
      <textarea
        id="prompt"
        className={`prompt__input${showError ? " prompt__input--error" : ""}`}
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) {
            e.preventDefault();
            runPrediction();
          }
        }}
        rows={3}
        spellCheck={false}
        placeholder="Type a prompt…"
        aria-invalid={showError}
        aria-describedby="prompt-help"
        data-testid="prompt-input"
      />
      <div className="prompt__foot" id="prompt-help">
        {showError ? (
          <p
            className="prompt__error"
            role="alert"
            data-testid="prompt-error"
            data-code={error.code}
          >
            {error.message}
          </p>
        ) : (
          <p className="prompt__hint">
            {nTokens !== null && nCtx !== null
              ? `${nTokens} / ${nCtx} tokens`
              : "Predictions update as you type."}
          </p>
        )}
      </div>
      {examples.length > 0 ? (
        <fieldset className="examples">
          <legend className="eyebrow">Try</legend>
          {examples.map((ex) => (
            <button
              key={ex}
              type="button"
              className="examples__chip"
              onClick={() => setPrompt(ex)}
              data-testid="example-prompt"
            >
              {ex}
            </button>
          ))}
        </fieldset>
      ) : null}
    </form>
  );
}
