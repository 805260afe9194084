"use client";
/**
 * Representation steering from a clicked hidden-state cell: add α times the mass-mean shift
 * between two prompt sets' last-token hidden states to the block output of that layer, at the
 * last token, every token, or the clicked token's position.
 */
import { useState } from "react";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { AlphaCurve } from "./AlphaCurve";
import { FormFooter } from "./FormFooter";
import { PROMPT_PAIRS, type ResidDraft, residRecipe } from "./head-recipe";
import { datasetAvailability, noDatasetReason } from "./model-dataset";
import type { EditFormProps } from "./types";

export function ResidForm({ site, onAdd, onCancel }: EditFormProps) {
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? null);
  const source = useCauseway((s) => s.model.source);
  const hasDataset = datasetAvailability(source) !== "no";
  const [d, setD] = useState<ResidDraft>({
    layer: site.layer ?? 0,
    position: "last",
    cell: site.position ?? null,
    alpha: 1,
    steerScale: "raw",
    pair: "absc",
  });
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<ResidDraft>) => setD((x) => ({ ...x, ...p }));
  return (
    <form
      className="editform"
      data-testid="resid-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = residRecipe(d, nLayer, hasDataset);
        if ("error" in r) {
          setError(r.error);
          return;
        }
        setError(null);
        onAdd(r.edit);
      }}
    >
      <h3 className="editform__title">Steer the hidden state after block {d.layer ?? "?"}</h3>
      <div className="editform__grid">
        <NumberField
          id="resid-layer"
          label="Layer"
          value={d.layer}
          onChange={(v) => set({ layer: v })}
          min={0}
        />
        <NumberField
          id="resid-alpha"
          label="α"
          value={d.alpha}
          onChange={(v) => set({ alpha: v })}
          step={0.5}
        />
        <label className="field">
          <span className="field__label">Positions</span>
          <select
            className="field__input"
            value={d.position}
            onChange={(e) => set({ position: e.target.value as ResidDraft["position"] })}
          >
            <option value="last">last token</option>
            <option value="all">every token</option>
            {d.cell !== null ? <option value="cell">token {d.cell} (clicked)</option> : null}
          </select>
        </label>
        <label className="field">
          <span className="field__label">α scale</span>
          <select
            className="field__input"
            value={d.steerScale}
            onChange={(e) => set({ steerScale: e.target.value as "iti" | "raw" })}
          >
            <option value="raw">raw (α·b)</option>
            <option value="iti">ITI (α·σ·θ)</option>
          </select>
        </label>
      </div>
      <label className="field">
        <span className="field__label">Direction: positive vs negative prompts</span>
        <select
          className="field__input"
          value={d.pair}
          onChange={(e) => set({ pair: e.target.value as ResidDraft["pair"] })}
        >
          {Object.entries(PROMPT_PAIRS).map(([k, p]) => (
            <option key={k} value={k}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      {!hasDataset ? (
        <small className="field__help" data-testid="resid-no-dataset">
          {noDatasetReason(source)} Steering learns its direction from those prompt sets.
        </small>
      ) : d.pair === "absc" ? (
        <AlphaCurve recipe={() => residRecipe(d, nLayer)} />
      ) : null}
      <FormFooter
        error={error}
        onCancel={onCancel}
        applyLabel="Apply steering edit"
        testPrefix="resid"
      />
    </form>
  );
}
