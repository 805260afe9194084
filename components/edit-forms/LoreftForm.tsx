"use client";
/**
 * A LoReFT representation edit (docs/methods.md §1 (b); lib/edit/loreft.ts): h ← h + Rᵀ(Wh + b − Rh)
 * at the block output of the chosen layers, at one position per prompt, trained on labelled
 * aspect-sentiment reviews of the model's dataset (absc). The form shows the trainable parameter
 * count before training; the worker learns the recipe, and the edit panel shows its learned.info
 * generically (held-out accuracy before/after, final loss, parameter count) and the loss curve.
 */
import { useState } from "react";
import { EDIT_PARAMS } from "@/lib/params/table";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { draftParamCount, type LoreftDraft, loreftRecipe } from "./loreft-recipe";
import type { EditFormProps } from "./types";

export function LoreftForm({ site, onAdd, onCancel }: EditFormProps) {
  const config = useCauseway((s) => s.model.info?.config ?? null);
  const [d, setD] = useState<LoreftDraft>({
    layers: site.layer !== undefined && site.kind !== "head" ? String(site.layer) : "",
    position: "aspect",
    clicked: site.position ?? null,
    rank: 4,
    nTrain: 16,
    steps: 40,
    lr: 0.01,
    seed: 0,
  });
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<LoreftDraft>) => setD((x) => ({ ...x, ...p }));
  const num = (v: number | null) => v ?? Number.NaN;
  const params = draftParamCount(d, config);

  return (
    <form
      className="patch__form"
      data-testid="loreft-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = loreftRecipe(d, config);
        if ("error" in r) {
          setError(r.error);
          return;
        }
        setError(null);
        onAdd(r.edit);
      }}
    >
      <label className="field">
        <span className="field__label">
          Layers <span className="field__aside">e.g. 2 or 2, 3; empty: middle layers</span>
        </span>
        <input
          className="field__input"
          value={d.layers}
          placeholder="auto"
          onChange={(e) => set({ layers: e.target.value })}
          spellCheck={false}
          data-testid="loreft-layers"
        />
      </label>
      <label className="field">
        <span className="field__label">Position</span>
        <select
          className="field__input"
          value={d.position}
          onChange={(e) => set({ position: e.target.value as LoreftDraft["position"] })}
          data-testid="loreft-position"
        >
          <option value="aspect">aspect (the token before the last)</option>
          <option value="last">last token</option>
          {d.clicked !== null ? (
            <option value="clicked">clicked token (position {d.clicked})</option>
          ) : null}
        </select>
      </label>
      <NumberField
        id="loreft-rank"
        label="Rank"
        value={d.rank}
        param={EDIT_PARAMS.loreftRank}
        onChange={(v) => set({ rank: num(v) })}
        testId="loreft-rank"
      />
      <NumberField
        id="loreft-ntrain"
        label="Training reviews"
        value={d.nTrain}
        param={EDIT_PARAMS.nTrain}
        onChange={(v) => set({ nTrain: num(v) })}
        testId="loreft-ntrain"
      />
      <NumberField
        id="loreft-steps"
        label="Steps"
        value={d.steps}
        param={EDIT_PARAMS.loreftSteps}
        onChange={(v) => set({ steps: num(v) })}
        testId="loreft-steps"
      />
      <NumberField
        id="loreft-lr"
        label="Learning rate"
        value={d.lr}
        param={EDIT_PARAMS.loreftLr}
        step={0.001}
        onChange={(v) => set({ lr: num(v) })}
        testId="loreft-lr"
        width={80}
      />
      <NumberField
        id="loreft-seed"
        label="Seed"
        value={d.seed}
        param={EDIT_PARAMS.seed}
        onChange={(v) => set({ seed: num(v) })}
        testId="loreft-seed"
      />
      <p className="panel__note" data-testid="loreft-params" data-params={params ?? ""}>
        {params === null
          ? "trainable parameters: –"
          : `${params.toLocaleString()} trainable parameters (per layer 2 × rank × d_model + rank)`}
      </p>
      <div className="patch__actions">
        <button type="button" className="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn--primary" data-testid="loreft-add">
          Add LoReFT edit
        </button>
      </div>
      {error ? (
        <p className="form-error" role="alert" data-testid="loreft-error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
