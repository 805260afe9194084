"use client";
/**
 * A small numeric input that lets the user type freely (an empty box, "0.") and reports a number
 * (NaN while the text is not one; null for an empty box when `allowEmpty`). `param`: the
 * setting's row of lib/params/table.ts gives the box its doc and range as a tooltip, and a whole
 * number's lower bound as `min`. No `max` and no fractional `min` go on the input: the browser
 * would then refuse to submit the form without a word (a step mismatch for 0.8 above min 1e-6,
 * or a value over max) instead of letting the app's check say what is wrong.
 */
import { useEffect, useState } from "react";
import { type NumParam, rangeText } from "@/lib/params/schema";
import { fitWidth } from "./number-field-width";

export function NumberField({
  id,
  label,
  value,
  onChange,
  param,
  min = param?.integer ? param.min : undefined,
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
  step?: number;
  placeholder?: string;
  allowEmpty?: boolean;
  suffix?: string;
  testId?: string;
  /** px; never narrower than the widest value `param` allows (./number-field-width.ts). */
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
          step={step}
          title={param ? `${param.doc}: ${rangeText(param)}` : undefined}
          value={text}
          placeholder={placeholder}
          style={{ width, minWidth: param ? fitWidth(param, step) : undefined }}
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
