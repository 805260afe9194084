"use client";
/**
 * SWEA⊕OS's settings (lib/params/swea.ts, SWEA's hparams names and defaults), shared by the SWEA
 * form and the Batch form: steps and learning rate of the subject offsets δ, the KL and norm
 * weights, the clamp, and the suppression step with its threshold.
 */
import type { SweaParamName } from "@/lib/params/swea";
import { SWEA_PARAMS } from "@/lib/params/swea";
import { NumberField } from "../NumberField";
import s from "./Batch.module.css";
import type { SweaSettings } from "./swea-recipe";

const FIELDS: { name: SweaParamName; label: string; id: string }[] = [
  { name: "v_num_grad_steps", label: "Steps", id: "steps" },
  { name: "v_lr", label: "Learning rate", id: "lr" },
  { name: "kl_factor", label: "KL weight", id: "kl" },
  { name: "v_weight_decay", label: "Norm penalty", id: "decay" },
  { name: "clamp_norm_factor", label: "Clamp ‖δ‖ / ‖e‖", id: "clamp" },
];

export function SweaSettingsFields({
  prefix,
  value,
  onChange,
}: {
  /** Element ids and test ids start with it ("swea" → #swea-steps, swea-steps). */
  prefix: string;
  value: SweaSettings;
  onChange: (v: SweaSettings) => void;
}) {
  const setValue = (name: SweaParamName, v: number | null) =>
    onChange({ ...value, values: { ...value.values, [name]: v } });
  return (
    <fieldset className="field" data-testid={`${prefix}-settings`}>
      <legend className="field__label">SWEA⊕OS (subject embedding offsets δ)</legend>
      <div className={s.grid}>
        {FIELDS.map((f) => (
          <NumberField
            key={f.name}
            id={`${prefix}-${f.id}`}
            label={f.label}
            value={value.values[f.name]}
            onChange={(v) => setValue(f.name, v)}
            param={SWEA_PARAMS[f.name]}
            step={SWEA_PARAMS[f.name].integer ? 1 : 0.001}
            testId={`${prefix}-${f.id}`}
          />
        ))}
      </div>
      <div className={s.grid}>
        <label className={s.check}>
          <input
            type="checkbox"
            checked={value.suppress}
            onChange={(e) => onChange({ ...value, suppress: e.target.checked })}
            data-testid={`${prefix}-suppress`}
          />
          suppress the old object's knowledge dimensions (SWEA⊕OS; off: optimise only)
        </label>
        <NumberField
          id={`${prefix}-kn`}
          label="Knowledge threshold"
          value={value.values.kn_threshold}
          onChange={(v) => setValue("kn_threshold", v)}
          param={SWEA_PARAMS.kn_threshold}
          step={0.001}
          testId={`${prefix}-kn`}
        />
      </div>
    </fieldset>
  );
}
