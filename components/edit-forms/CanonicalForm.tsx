"use client";
/**
 * A canonical-examples edit (Hewitt et al. 2024; lib/edit/lora.ts): one example (prefix →
 * suffix) taught with a LoRA change of the MLPs of a layer range, keeping the last training step
 * whose general-text loss stays within (1 + ε) of the original; optionally full fine-tuning of
 * the range and the forgetting regulariser (λ > 0). The worker learns the recipe;
 * once learned, the form shows the held-out success rate and the loss ratio (learned.info).
 */
import { useState } from "react";
import type { LoraEdit } from "@/lib/edit/types";
import { NumberField } from "../NumberField";
import { useCauseway } from "../StoreProvider";
import { type CanonicalDraft, canonicalRecipe } from "./canonical-recipe";
import type { EditFormProps } from "./types";

const EPSILONS = ["1e-3", "1e-4", "1e-5"];

export function CanonicalForm({ prompt, onAdd, onCancel }: EditFormProps) {
  const nLayer = useCauseway((s) => s.model.info?.config.nLayer ?? null);
  const stack = useCauseway((s) => s.edits.stack);
  const [d, setD] = useState<CanonicalDraft>({
    prefix: prompt,
    suffix: "",
    first: null,
    last: null,
    rank: 4,
    epsilon: 1e-3,
    steps: 10,
    lr: 0.01,
    seed: 0,
    forget: 0,
    full: false,
  });
  const [epsChoice, setEpsChoice] = useState("1e-3");
  const [error, setError] = useState<string | null>(null);
  const [addedId, setAddedId] = useState<string | null>(null);
  const set = (p: Partial<CanonicalDraft>) => setD((x) => ({ ...x, ...p }));
  const added = stack.find((e) => e.id === addedId && e.kind === "lora") as LoraEdit | undefined;
  const num = (v: number | null) => v ?? Number.NaN;

  return (
    <form
      className="patch__form"
      data-testid="canonical-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = canonicalRecipe(d, nLayer);
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
        <span className="field__label">Prefix</span>
        <input
          className="field__input"
          value={d.prefix}
          onChange={(e) => set({ prefix: e.target.value })}
          spellCheck={false}
          data-testid="canonical-prefix"
        />
      </label>
      <label className="field">
        <span className="field__label">
          Suffix <span className="field__aside">e.g. " Orvane"</span>
        </span>
        <input
          className="field__input"
          value={d.suffix}
          onChange={(e) => set({ suffix: e.target.value })}
          spellCheck={false}
          data-testid="canonical-suffix"
        />
      </label>
      <NumberField
        id="canonical-first"
        label="First layer"
        value={d.first}
        allowEmpty
        placeholder="auto"
        min={0}
        onChange={(v) => set({ first: v })}
        testId="canonical-first"
      />
      <NumberField
        id="canonical-last"
        label="Last layer"
        value={d.last}
        allowEmpty
        placeholder="auto"
        min={0}
        onChange={(v) => set({ last: v })}
        testId="canonical-last"
      />
      <NumberField
        id="canonical-rank"
        label="Rank"
        value={d.rank}
        min={1}
        onChange={(v) => set({ rank: num(v) })}
        testId="canonical-rank"
      />
      <label className="field">
        <span className="field__label">ε (loss cap)</span>
        <select
          className="field__input"
          value={epsChoice}
          onChange={(e) => {
            setEpsChoice(e.target.value);
            if (e.target.value !== "custom") set({ epsilon: Number(e.target.value) });
          }}
          data-testid="canonical-epsilon"
        >
          {EPSILONS.map((x) => (
            <option key={x} value={x}>
              {x}
            </option>
          ))}
          <option value="custom">custom</option>
        </select>
      </label>
      {epsChoice === "custom" ? (
        <NumberField
          id="canonical-eps-custom"
          label="ε"
          value={d.epsilon}
          step={0.0001}
          onChange={(v) => set({ epsilon: num(v) })}
          testId="canonical-eps-custom"
          width={90}
        />
      ) : null}
      <NumberField
        id="canonical-steps"
        label="Steps"
        value={d.steps}
        min={1}
        onChange={(v) => set({ steps: num(v) })}
        testId="canonical-steps"
      />
      <NumberField
        id="canonical-lr"
        label="Learning rate"
        value={d.lr}
        step={0.001}
        onChange={(v) => set({ lr: num(v) })}
        testId="canonical-lr"
        width={80}
      />
      <NumberField
        id="canonical-seed"
        label="Seed"
        value={d.seed}
        min={0}
        onChange={(v) => set({ seed: num(v) })}
        testId="canonical-seed"
      />
      <NumberField
        id="canonical-forget"
        label="Forgetting λ"
        value={d.forget}
        min={0}
        step={0.1}
        onChange={(v) => set({ forget: num(v) })}
        testId="canonical-forget"
        width={70}
      />
      <label className="field">
        <span className="field__label">Full fine-tuning</span>
        <input
          type="checkbox"
          checked={d.full}
          onChange={(e) => set({ full: e.target.checked })}
          data-testid="canonical-full"
          title="Train ΔW of the layer range directly instead of a low-rank A·B"
        />
      </label>
      <div className="patch__actions">
        <button type="button" className="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn--primary" data-testid="canonical-add">
          Add LoRA edit
        </button>
      </div>
      {error ? (
        <p className="form-error" role="alert" data-testid="canonical-error">
          {error}
        </p>
      ) : null}
      {added ? <LoraInfoLine edit={added} /> : null}
    </form>
  );
}

/** Held-out success and the loss ratio of a learned LoRA edit (or "learning…"). */
export function LoraInfoLine({ edit }: { edit: LoraEdit }) {
  const info = edit.learned?.info;
  if (!info) {
    return (
      <p className="panel__note" data-testid="canonical-info" data-status="learning">
        learning…
      </p>
    );
  }
  const pct = (x: number | null) => (x === null ? "–" : `${Math.round(x * 100)}%`);
  return (
    <p
      className="panel__note"
      data-testid="canonical-info"
      data-status="learned"
      data-success={info.success_rate ?? ""}
      data-ratio={info.loss_ratio}
    >
      held-out success {pct(info.success_before)} → {pct(info.success_rate)} over {info.n_eval}{" "}
      prompts (P ≥ {info.threshold}) · loss ratio {info.loss_ratio.toFixed(5)} ≤ 1 + {info.epsilon}{" "}
      · kept step {info.kept_step}/{info.losses.length - 1} · {info.params.toLocaleString()} params
      {info.forget ? ` · forgetting λ ${info.forget.lambda}` : ""}
      {edit.params.full ? " · full fine-tuning" : ""}
    </p>
  );
}
