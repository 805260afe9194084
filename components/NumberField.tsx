"use client";
/**
 * A small numeric input that lets the user type freely (an empty box, "0.") and reports a number
 * (NaN while the text is not one; null for an empty box when `allowEmpty`). `param`: the
 * setting's row of lib/params/table.ts gives the box its bounds (min, max) and its doc as a
 * tooltip; the store's and the forms' checks say why a typed value is refused.
 */
import { useEffect, useState } from "react";
import type { NumParam } from "@/lib/params/schema";

export function NumberField({
  id,
  label,
  value,
  onChange,
  param,
  min = param?.min,
  max = param?.max,
  step = 1,
  placeholder,
  allowEmpty = false,
  suffix,
  testId,
  width = 64,
}: {
  id: string;
  label: string;
  value: number | null;
  onChange: (v: number | null) => void;
  param?: NumParam;
  min?: number;
  /** Defaults to the param's bound; a model may lower it (the window ≤ n_layer). */
  max?: number;
  step?: number;
  placeholder?: string;
  allowEmpty?: boolean;
  suffix?: string;
  testId?: string;
  width?: number;
}) {
  const [text, setText] = useState(value === null || Number.isNaN(value) ? "" : String(value));
  useEffect(() => {
    // follow outside changes (not the user's own half-typed text)
    setText((t) => {
      const parsed = t.trim() === "" ? null : Number(t);
      return parsed === value || (Number.isNaN(value ?? 0) && Number.isNaN(parsed ?? 0))
        ? t
        : value === null
          ? ""
          : String(value);
    });
  }, [value]);
  return (
    <label className="numfield" htmlFor={id}>
      {label ? <span className="numfield__label">{label}</span> : null}
      <span className="numfield__box">
        <input
          id={id}
          type="number"
          inputMode="decimal"
          min={min}
          max={max}
          step={step}
          title={param?.doc}
          value={text}
          placeholder={placeholder}
          style={{ width }}
          onChange={(e) => {
            const t = e.target.value;
            setText(t);
            if (t.trim() === "") onChange(allowEmpty ? null : Number.NaN);
            else onChange(Number(t));
          }}
          data-testid={testId}
        />
        {suffix ? <span className="numfield__suffix">{suffix}</span> : null}
      </span>
    </label>
  );
}
