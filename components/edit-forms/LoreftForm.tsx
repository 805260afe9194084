"use client";
/**
 * A LoReFT representation edit (METHODS.md §1 (b); lib/edit/loreft.ts): h ← h + Rᵀ(Wh + b − Rh)
 * at the block output of the chosen layers, at one position per prompt, trained on labelled
 * aspect-sentiment reviews of the model's dataset (absc). The form shows the trainable parameter
 * count before training; the worker learns the recipe and the learned accuracy before/after on
 * held-out reviews appears below (learned.info; the edit panel shows the loss curve).
 */
import { useState } from "react";
import type { LoreftEdit } from "@/lib/edit/types";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { draftParamCount, type LoreftDraft, loreftRecipe } from "./loreft-recipe";
import type { EditFormProps } from "./types";

export function LoreftForm({ site, onAdd, onCancel }: EditFormProps) {
  const config = useCauseway((s) => s.model.info?.config ?? null);
  const stack = useCauseway((s) => s.edits.stack);
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
  const [addedId, setAddedId] = useState<string | null>(null);
  const set = (p: Partial<LoreftDraft>) => setD((x) => ({ ...x, ...p }));
  const added = stack.find((e) => e.id === addedId && e.kind === "loreft") as
    | LoreftEdit
    | undefined;
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
        setAddedId(r.edit.id ?? null);
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
        min={1}
        onChange={(v) => set({ rank: num(v) })}
        testId="loreft-rank"
      />
      <NumberField
        id="loreft-ntrain"
        label="Training reviews"
        value={d.nTrain}
        min={1}
        onChange={(v) => set({ nTrain: num(v) })}
        testId="loreft-ntrain"
      />
      <NumberField
        id="loreft-steps"
        label="Steps"
        value={d.steps}
        min={1}
        onChange={(v) => set({ steps: num(v) })}
        testId="loreft-steps"
      />
      <NumberField
        id="loreft-lr"
        label="Learning rate"
        value={d.lr}
        step={0.001}
        onChange={(v) => set({ lr: num(v) })}
        testId="loreft-lr"
        width={80}
      />
      <NumberField
        id="loreft-seed"
        label="Seed"
        value={d.seed}
        min={0}
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
      {added ? <LoreftInfoLine edit={added} /> : null}
    </form>
  );
}

/** Held-out ABSC accuracy before → after of a learned LoReFT edit (or "learning…"). */
export function LoreftInfoLine({ edit }: { edit: LoreftEdit }) {
  const info = edit.learned?.info;
  if (!info) {
    return (
      <p className="panel__note" data-testid="loreft-info" data-status="learning">
        learning…
      </p>
    );
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const loss = (i: number) => info.losses.at(i)?.loss.toFixed(3) ?? "–";
  return (
    <p
      className="panel__note"
      data-testid="loreft-info"
      data-status="learned"
      data-before={info.accuracy_before}
      data-after={info.accuracy_after}
    >
      held-out ABSC accuracy {pct(info.accuracy_before)} → {pct(info.accuracy_after)} over{" "}
      {info.n_test} reviews · trained on {info.n_train} · loss {loss(0)} → {loss(-1)} ·{" "}
      {info.params.toLocaleString()} params
    </p>
  );
}
