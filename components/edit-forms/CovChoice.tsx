"use client";
/**
 * The choice of C's corpus (lib/edit/types.ts COV_SOURCES) as a segmented radio group, for the
 * ROME and batch forms. Each form names the sources its own way (batch runs may bring their own
 * corpus) and may rule some out.
 */
import { COV_SOURCES, type CovSource } from "@/lib/edit/types";

export function CovChoice({
  owner,
  value,
  onChange,
  labels,
  disabled,
}: {
  /** Prefix of the radio group's name and test ids: `${owner}-cov-${source}`. */
  owner: string;
  value: CovSource;
  onChange: (c: CovSource) => void;
  labels: Record<CovSource, string>;
  disabled?: (c: CovSource) => boolean;
}) {
  return (
    <div className="seg">
      {COV_SOURCES.map((c) => (
        <label key={c} className={`seg__btn${value === c ? " seg__btn--on" : ""}`}>
          <input
            type="radio"
            name={`${owner}-cov`}
            checked={value === c}
            disabled={disabled?.(c)}
            onChange={() => onChange(c)}
            data-testid={`${owner}-cov-${c}`}
          />
          {labels[c]}
        </label>
      ))}
    </div>
  );
}
