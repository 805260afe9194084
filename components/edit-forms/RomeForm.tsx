"use client";
/**
 * ROME from a clicked MLP cell: the clicked layer's MLP output projection is rewritten so that
 * the subject's prompt completes with the new target. The template is the trace's prompt with
 * the subject as "{}"; C (the keys' second moment) is the identity, or estimated from the
 * model's general text (optionally with the known facts), shrunk toward the identity by γ.
 */
import { useState } from "react";
import { ROME_DEFAULTS } from "@/lib/edit/rome-defaults";
import type { CovSource } from "@/lib/edit/types";
import { EDIT_PARAMS } from "@/lib/params/table";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { CovChoice } from "./CovChoice";
import { FormFooter } from "./FormFooter";
import { datasetAvailability, defaultCov, noDatasetReason } from "./model-dataset";
import { RewriteFields } from "./RewriteFields";
import { type RomeDraft, romeRecipe } from "./rome-recipe";
import type { EditFormProps } from "./types";

const COV_LABEL: Record<CovSource, string> = {
  identity: "identity",
  general_text: "general text",
  "general_text+facts": "general text + facts",
};

export function RomeForm({ site, prompt, subject, onAdd, onCancel }: EditFormProps) {
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? null);
  const answer = useCauseway((s) =>
    s.predict.resultPrompt === prompt ? (s.predict.result?.top[0]?.token ?? null) : null,
  );
  const source = useCauseway((s) => s.model.source);
  const hasDataset = datasetAvailability(source) !== "no";
  const [d, setD] = useState<RomeDraft>({
    prompt,
    subject: subject ?? "",
    targetNew: "",
    layer: site.layer ?? 0,
    // ROME's defaults (identity when the model has no dataset.json to estimate C from)
    cov: defaultCov(datasetAvailability(source)),
    shrinkage: ROME_DEFAULTS.shrinkage,
    steps: ROME_DEFAULTS.steps,
  });
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<RomeDraft>) => setD((x) => ({ ...x, ...p }));

  return (
    <form
      className="editform"
      data-testid="rome-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = romeRecipe(d, nLayer, hasDataset);
        if ("error" in r) {
          setError(r.error);
          return;
        }
        setError(null);
        onAdd(r.edit);
      }}
    >
      <h3 className="editform__title">ROME: rewrite a fact at the MLP of layer {d.layer ?? "?"}</h3>
      <div className="editform__grid">
        <RewriteFields prefix="rome" draft={d} set={set} answer={answer} />
        <NumberField
          id="rome-layer"
          label="Layer"
          value={d.layer}
          onChange={(v) => set({ layer: v })}
          min={0}
          testId="rome-layer"
        />
        <NumberField
          id="rome-steps"
          label="Steps"
          value={d.steps}
          onChange={(v) => set({ steps: v })}
          param={EDIT_PARAMS.romeSteps}
          testId="rome-steps"
        />
      </div>
      <fieldset className="field">
        <legend className="field__label">C (second moment of keys)</legend>
        <CovChoice
          owner="rome"
          value={d.cov}
          onChange={(cov) => set({ cov })}
          labels={COV_LABEL}
          disabled={(c) => !hasDataset && c !== "identity"}
        />
        {!hasDataset ? (
          <small className="field__help" data-testid="rome-no-dataset">
            {noDatasetReason(source)} C is the identity.
          </small>
        ) : null}
        {d.cov !== "identity" ? (
          <NumberField
            id="rome-shrinkage"
            label="Shrinkage γ"
            value={d.shrinkage}
            onChange={(v) => set({ shrinkage: v })}
            min={0}
            step={0.01}
            testId="rome-shrinkage"
          />
        ) : null}
      </fieldset>
      <FormFooter
        error={error}
        onCancel={onCancel}
        applyLabel="Apply ROME edit"
        testPrefix="rome"
      />
    </form>
  );
}
