"use client";
import { visibleToken } from "@/lib/viz/format";
import { AttentionView } from "./AttentionView";
import { HeadGrid } from "./HeadGrid";
import { RunLine } from "./RunLine";
/**
 * Activation patching of attention heads: run a clean and a corrupted prompt of the same length,
 * copy one head's output at a time from the clean run into the corrupted one, and score the
 * normalised logit difference between the target and the foil (clean = 1, corrupted = 0).
 */
import { useCauseway } from "./StoreProvider";
import { useModelBlocked } from "./use-model-blocked";

export function PatchPanel() {
  const st = useCauseway((s) => s.patch.settings);
  const run = useCauseway((s) => s.patch.run);
  const result = useCauseway((s) => s.patch.result);
  const formError = useCauseway((s) => s.patch.formError);
  const selected = useCauseway((s) => s.patch.selected);
  const attention = useCauseway((s) => s.patch.attention);
  const blocked = useModelBlocked();
  const prompt = useCauseway((s) => s.predict.prompt);
  const counterfactual = useCauseway((s) => s.trace.settings.counterfactual);
  const set = useCauseway((s) => s.setPatchSettings);
  const runPatch = useCauseway((s) => s.runPatch);
  const selectHead = useCauseway((s) => s.selectHead);
  const b = result?.baseline ?? null;

  return (
    <section className="panel patch" aria-labelledby="patch-title" data-testid="patch-panel">
      <header className="panel__head">
        <h2 id="patch-title">Activation patching · heads</h2>
        <span className="panel__note">
          copy one head's output from the clean run into the corrupted run
        </span>
      </header>
      <form
        className="patch__form"
        onSubmit={(e) => {
          e.preventDefault();
          runPatch();
        }}
      >
        <label className="field field--clean">
          <span className="field__label">Clean prompt</span>
          <input
            className="field__input"
            value={st.clean}
            onChange={(e) => set({ clean: e.target.value })}
            spellCheck={false}
            data-testid="patch-clean"
          />
        </label>
        <label className="field field--corrupt">
          <span className="field__label">
            Corrupted prompt <span className="field__aside">same number of tokens</span>
          </span>
          <input
            className="field__input"
            value={st.corrupt}
            onChange={(e) => set({ corrupt: e.target.value })}
            spellCheck={false}
            data-testid="patch-corrupt"
          />
        </label>
        <label className="field field--target">
          <span className="field__label">Target</span>
          <input
            className="field__input"
            value={st.target}
            onChange={(e) => set({ target: e.target.value })}
            placeholder="clean top-1"
            spellCheck={false}
            data-testid="patch-target"
          />
        </label>
        <label className="field field--foil">
          <span className="field__label">Foil</span>
          <input
            className="field__input"
            value={st.foil}
            onChange={(e) => set({ foil: e.target.value })}
            placeholder="corrupted top-1"
            spellCheck={false}
            data-testid="patch-foil"
          />
        </label>
        <div className="patch__actions">
          <button
            type="button"
            className="btn btn--ghost"
            onClick={() =>
              set({ clean: prompt, ...(counterfactual.trim() ? { corrupt: counterfactual } : {}) })
            }
            title="Use the prompt above (and the trace's counterfactual)"
          >
            Use prompt above
          </button>
          <button
            type="submit"
            className="btn btn--primary"
            disabled={blocked !== null}
            title={blocked ?? undefined}
            data-testid="run-patch"
          >
            Patch heads
          </button>
        </div>
        {formError ? (
          <p className="form-error" role="alert" data-testid="patch-form-error">
            {formError.message}
          </p>
        ) : null}
      </form>
      <RunLine run={run} what="patching" owner="patch" />
      {b ? (
        <dl
          className="facts"
          data-testid="patch-baseline"
          data-target={b.target.token}
          data-foil={b.foil.token}
        >
          <div>
            <dt>target / foil</dt>
            <dd>
              <code className="tok">{visibleToken(b.target.token)}</code> vs{" "}
              <code className="tok">{visibleToken(b.foil.token)}</code>
            </dd>
          </div>
          <div>
            <dt>logit diff clean</dt>
            <dd>{b.cleanLogitDiff.toFixed(3)}</dd>
          </div>
          <div>
            <dt>logit diff corrupted</dt>
            <dd>{b.corruptLogitDiff.toFixed(3)}</dd>
          </div>
          <div>
            <dt>p(target) clean → corrupted</dt>
            <dd>
              {b.cleanProb.toFixed(3)} → {b.corruptProb.toFixed(3)}
            </dd>
          </div>
        </dl>
      ) : null}
      <div className="patch__body">
        <div className="patch__grid" data-testid="head-grid" data-filled={result?.filled ?? 0}>
          {b && result?.values ? (
            <HeadGrid
              values={result.values}
              nLayer={b.nLayer}
              nHead={b.nHead}
              selected={selected}
              onSelect={selectHead}
            />
          ) : (
            <p className="heatmap__empty">
              {run.status === "running"
                ? "Running the clean and corrupted prompts…"
                : "Patch the heads to fill in the layer × head grid."}
            </p>
          )}
        </div>
        <div>
          <AttentionView attention={attention} />
          {selected ? <EditHeadButton layer={selected.layer} head={selected.head} /> : null}
        </div>
      </div>
    </section>
  );
}

/** Opens the head edit form (components/EditPanel) for the head picked on the grid. */
function EditHeadButton({ layer, head }: { layer: number; head: number }) {
  const open = useCauseway((s) => s.openEditForm);
  const prompt = useCauseway((s) => s.patch.settings.clean);
  return (
    <button
      type="button"
      className="btn btn--ghost"
      onClick={() => open({ form: "head", site: { layer, head, kind: "head" }, prompt })}
      data-testid="edit-head"
    >
      Edit head L{layer}H{head}…
    </button>
  );
}
