"use client";
/**
 * The ABSC recipe (Li et al. 2025, arXiv 2503.15117; docs/recipes.md "ABSC") in the edit panel:
 * the methods `causeway absc` compares, trained on the model's restaurant reviews and scored in
 * and out of domain, with the CLI's settings (lib/params/table.ts ABSC_PARAMS) and its table
 * (lib/edit/absc-request.ts abscCells). Rows arrive one method at a time; Cancel keeps them.
 * A row's Apply puts what the method learned on the edit stack (./AbscTable.tsx). Locate runs
 * the Dataset panel's trace over the in-domain reviews with the aspect word corrupted.
 */
import { useState } from "react";
import { ABSC_METHOD_NAMES } from "@/lib/edit/absc-request";
import { ABSC_PARAMS } from "@/lib/params/table";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import s from "./Absc.module.css";
import { AbscProgressLine, AbscTable } from "./AbscTable";
import { type AbscDraft, abscRequest, initialAbscDraft, METHOD_HELP } from "./absc-recipe";
import { datasetAvailability, noDatasetReason } from "./model-dataset";
import type { EditFormProps } from "./types";

/** The numeric settings: the draft's key (ABSC_PARAMS's row), the input's id and label. */
const NUMBER_FIELDS: { key: keyof typeof ABSC_PARAMS; id: string; label: string }[] = [
  { key: "rank", id: "rank", label: "Rank" },
  { key: "nTrain", id: "n-train", label: "Train reviews" },
  { key: "nTest", id: "n-test", label: "Test reviews / split" },
  { key: "steps", id: "steps", label: "Steps" },
  { key: "lr", id: "lr", label: "Learning rate" },
  { key: "seed", id: "seed", label: "Seed" },
];

export function AbscForm({ site, onCancel }: EditFormProps) {
  const nLayer = useCauseway((st) => st.model.info?.config.nLayer ?? null);
  const source = useCauseway((st) => st.model.source);
  // hub and local-file models carry no dataset.json: nothing to train or trace on
  const noData = datasetAvailability(source) === "no";
  const state = useCauseway((st) => st.absc);
  const run = useCauseway((st) => st.runAbsc);
  const cancel = useCauseway((st) => st.cancelAbsc);
  const locate = useCauseway((st) => st.locateAbsc);
  const [d, setD] = useState<AbscDraft>(() => ({
    ...initialAbscDraft(),
    layers: site.layer !== undefined && site.kind === "hidden" ? String(site.layer) : "",
  }));
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<AbscDraft>) => setD((x) => ({ ...x, ...p }));
  const running = state.status === "running";
  const shownError = error ?? (state.status === "error" ? (state.error?.message ?? null) : null);

  return (
    <form
      className="editform"
      data-testid="absc-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = abscRequest(d, nLayer);
        if ("error" in r) {
          setError(r.error);
          return;
        }
        setError(null);
        run(r.request);
      }}
    >
      <h3 className="editform__title">Aspect-based sentiment (ABSC recipe)</h3>
      <small className="field__help">
        Each method trains on the same seeded restaurant reviews of the model's dataset, from the
        model without edits (as <code>causeway absc</code>), and is scored on held-out restaurant
        (in-domain) and hotel (out-of-domain) reviews: argmax over positive / negative / neutral.
      </small>
      {noData ? (
        <p className="form-error" role="alert" data-testid="absc-no-dataset">
          {noDatasetReason(source)} The ABSC recipe needs its reviews (absc_domains).
        </p>
      ) : null}
      <fieldset className={s.methods} data-testid="absc-methods">
        <legend className="field__label">Methods</legend>
        {ABSC_METHOD_NAMES.map((m) => (
          <label key={m} className={s.check} title={METHOD_HELP[m]}>
            <input
              type="checkbox"
              checked={d.methods.includes(m)}
              onChange={(e) =>
                set({
                  methods: e.target.checked ? [...d.methods, m] : d.methods.filter((x) => x !== m),
                })
              }
              data-testid={`absc-method-${m}`}
            />
            <span>
              <b>{m}</b> <span className="field__aside">{METHOD_HELP[m]}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <div className="editform__grid">
        <label className="field">
          <span className="field__label">
            Layers <span className="field__aside">e.g. 2 or 2, 3; empty: the recipe's</span>
          </span>
          <input
            className="field__input"
            value={d.layers}
            placeholder="default"
            onChange={(e) => set({ layers: e.target.value })}
            spellCheck={false}
            data-testid="absc-layers"
          />
        </label>
        {NUMBER_FIELDS.map((f) => (
          <NumberField
            key={f.key}
            id={`absc-${f.id}`}
            label={f.label}
            value={d[f.key]}
            param={ABSC_PARAMS[f.key]}
            step={f.key === "lr" ? 0.001 : 1}
            width={f.key === "lr" ? 80 : 64}
            onChange={(v) => set({ [f.key]: v })}
            testId={`absc-${f.id}`}
          />
        ))}
      </div>
      <div className="patch__actions">
        <button type="button" className="btn btn--ghost" onClick={onCancel}>
          Close
        </button>
        {running ? (
          <button
            type="button"
            className="btn btn--ghost"
            onClick={cancel}
            data-testid="absc-cancel"
          >
            Cancel run
          </button>
        ) : null}
        <button
          type="submit"
          className="btn btn--primary"
          disabled={running || noData}
          data-testid="absc-run"
        >
          {running ? "Training…" : "Run the ABSC recipe"}
        </button>
      </div>
      {shownError ? (
        <p className="form-error" role="alert" data-testid="absc-error">
          {shownError}
        </p>
      ) : null}
      <AbscProgressLine />
      <AbscTable />
      <AbscLocate disabled={running || noData} onLocate={locate} />
    </form>
  );
}

/** The locate study: the Dataset panel's trace over the in-domain reviews. */
function AbscLocate({ disabled, onLocate }: { disabled: boolean; onLocate: () => void }) {
  const locate = useCauseway((st) => st.absc.locate);
  return (
    <div className={s.locate}>
      <button
        type="button"
        className="btn btn--ghost"
        disabled={disabled || locate.status === "running"}
        onClick={onLocate}
        data-testid="absc-locate"
      >
        Locate: trace the reviews
      </button>
      <small className="field__help">
        Causal tracing over the in-domain test reviews with the aspect word corrupted, averaged per
        layer and token group (<code>causeway absc --locate</code>); it runs in the Dataset panel
        with its facts and samples settings.
      </small>
      {locate.status === "error" && locate.error ? (
        <p className="form-error" role="alert" data-testid="absc-locate-error">
          {locate.error.message}
        </p>
      ) : null}
    </div>
  );
}
