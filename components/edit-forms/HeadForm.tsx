"use client";
/**
 * Head edits from a clicked head: ablate it (zero, or its mean over general text), scale its
 * output, or steer it (ITI: add α·σ·θ along the mass-mean direction between two prompt sets)
 * — the selected head, or the top K heads by linear-probe accuracy, whose layer × head grid
 * the form can show — or run the semantic-consistency recipe (./ConsistencyRecipe.tsx), whose
 * top-K head_steer edit Apply adds.
 */
import { useState } from "react";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { AlphaCurve } from "./AlphaCurve";
import { ConsistencyRecipe } from "./ConsistencyRecipe";
import { FormFooter } from "./FormFooter";
import { HeadGrid } from "./HeadGrid";
import {
  HEAD_PAIRS,
  type HeadDraft,
  type HeadMode,
  headModeNeedsDataset,
  headRecipe,
  PROMPT_PAIRS,
} from "./head-recipe";
import { datasetAvailability, noDatasetReason } from "./model-dataset";
import type { EditFormProps } from "./types";

const MODES: [HeadMode, string][] = [
  ["ablate_zero", "Zero-ablate"],
  ["ablate_mean", "Mean-ablate"],
  ["scale", "Scale"],
  ["steer", "Steer"],
  ["consistency", "Consistency"],
];

export function HeadForm({ site, onAdd, onCancel }: EditFormProps) {
  const info = useCauseway((s) => s.model.info);
  const dims = info ? { nLayer: info.config.nLayer, nHead: info.config.nHead } : null;
  const source = useCauseway((s) => s.model.source);
  const hasDataset = datasetAvailability(source) !== "no";
  const [d, setD] = useState<HeadDraft>({
    mode: "ablate_zero",
    layer: site.layer ?? 0,
    head: site.head ?? 0,
    position: "last",
    scale: 0,
    alpha: 5,
    steerScale: "iti",
    pair: "absc",
    which: "selected",
    topK: 4,
  });
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<HeadDraft>) => setD((x) => ({ ...x, ...p }));
  const consistency = useCauseway((s) => s.consistency);
  // the consistency recipe's edit, when its run belongs to the model now loaded
  const consistencyEdit =
    consistency.run && consistency.model === (info?.name ?? null) ? consistency.run.edit : null;

  return (
    <form
      className="editform"
      data-testid="head-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (d.mode === "consistency" && consistencyEdit) {
          setError(null);
          onAdd(consistencyEdit);
          return;
        }
        const r = headRecipe(d, dims, hasDataset);
        if ("error" in r) {
          setError(r.error);
          return;
        }
        setError(null);
        onAdd(r.edit);
      }}
    >
      <h3 className="editform__title">
        Head L{d.layer ?? "?"}H{d.head ?? "?"}
      </h3>
      <div className="seg" role="radiogroup" aria-label="Head edit">
        {MODES.map(([m, label]) => (
          <label key={m} className={`seg__btn${d.mode === m ? " seg__btn--on" : ""}`}>
            <input
              type="radio"
              name="head-mode"
              checked={d.mode === m}
              disabled={!hasDataset && headModeNeedsDataset(m)}
              onChange={() => set({ mode: m })}
            />
            {label}
          </label>
        ))}
      </div>
      {!hasDataset ? (
        <small className="field__help" data-testid="head-no-dataset">
          {noDatasetReason(source)} Mean ablation and steering need it.
        </small>
      ) : null}
      {d.mode === "consistency" ? <ConsistencyRecipe /> : null}
      <div
        className="editform__grid"
        style={d.mode === "consistency" ? { display: "none" } : undefined}
      >
        <NumberField
          id="head-layer"
          label="Layer"
          value={d.layer}
          onChange={(v) => set({ layer: v })}
          min={0}
        />
        <NumberField
          id="head-head"
          label="Head"
          value={d.head}
          onChange={(v) => set({ head: v })}
          min={0}
        />
        <label className="field">
          <span className="field__label">Positions</span>
          <select
            className="field__input"
            value={d.position}
            onChange={(e) => set({ position: e.target.value as "last" | "all" })}
          >
            <option value="last">last token</option>
            <option value="all">every token</option>
          </select>
        </label>
        {d.mode === "scale" ? (
          <NumberField
            id="head-scale"
            label="Scale"
            value={d.scale}
            onChange={(v) => set({ scale: v })}
            step={0.1}
          />
        ) : null}
        {d.mode === "steer" ? (
          <>
            <NumberField
              id="head-alpha"
              label="α"
              value={d.alpha}
              onChange={(v) => set({ alpha: v })}
              step={0.5}
            />
            <label className="field">
              <span className="field__label">α scale</span>
              <select
                className="field__input"
                value={d.steerScale}
                onChange={(e) => set({ steerScale: e.target.value as "iti" | "raw" })}
              >
                <option value="iti">ITI (α·σ·θ)</option>
                <option value="raw">raw (α·b)</option>
              </select>
            </label>
            <label className="field">
              <span className="field__label">Heads</span>
              <select
                className="field__input"
                value={d.which}
                onChange={(e) => set({ which: e.target.value as "selected" | "top_k" })}
              >
                <option value="selected">this head</option>
                <option value="top_k">top K by probe</option>
              </select>
            </label>
            {d.which === "top_k" ? (
              <NumberField
                id="head-topk"
                label="K"
                value={d.topK}
                onChange={(v) => set({ topK: v })}
                min={1}
              />
            ) : null}
          </>
        ) : null}
      </div>
      {d.mode === "steer" ? (
        <>
          <label className="field">
            <span className="field__label">Direction: positive vs negative prompts</span>
            <select
              className="field__input"
              value={d.pair}
              onChange={(e) => set({ pair: e.target.value as HeadDraft["pair"] })}
            >
              {HEAD_PAIRS.map((k) => (
                <option key={k} value={k}>
                  {PROMPT_PAIRS[k].label}
                </option>
              ))}
            </select>
          </label>
          <ProbeGrid pair={d.pair} />
          {d.pair === "absc" ? <AlphaCurve recipe={() => headRecipe(d, dims)} /> : null}
        </>
      ) : null}
      <FormFooter
        error={error}
        onCancel={onCancel}
        applyLabel="Apply head edit"
        testPrefix="head"
      />
    </form>
  );
}

/** Probe validation accuracy per layer × head for the chosen prompt sets. */
function ProbeGrid({ pair }: { pair: HeadDraft["pair"] }) {
  const probe = useCauseway((s) => s.headProbe);
  const run = useCauseway((s) => s.probeHeads);
  const p = PROMPT_PAIRS[pair];
  return (
    <div className="probe" data-testid="probe-grid">
      <button type="button" className="btn btn--ghost" onClick={() => run(p.positive, p.negative)}>
        {probe.status === "running" ? "Probing…" : "Show probe accuracy (layer × head)"}
      </button>
      {probe.status === "error" && probe.error ? (
        <p className="form-error">{probe.error.message}</p>
      ) : null}
      {probe.accuracy ? <HeadGrid accuracy={probe.accuracy} cellTestId="probe-cell" /> : null}
      {probe.accuracy ? (
        <small className="field__help">
          Validation accuracy (%) of a logistic probe on each head's last-token output,{" "}
          {probe.nPositive} vs {probe.nNegative} prompts.
        </small>
      ) : null}
    </div>
  );
}
