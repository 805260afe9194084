"use client";
/** Small pieces the read-out views share: a text field, and a result's target and foil. */
import { visibleToken } from "@/lib/viz/format";

export function TextField({
  label,
  value,
  onChange,
  placeholder,
  testId,
  wide = false,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  placeholder?: string;
  testId: string;
  /** A prompt: takes the row's room before the token fields. */
  wide?: boolean;
}) {
  return (
    <label className={wide ? "field field--wide" : "field"}>
      <span className="field__label">{label}</span>
      <input
        className="field__input"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        spellCheck={false}
        data-testid={testId}
      />
    </label>
  );
}

/** The "target / foil" entry of a result's facts list. */
export function TargetFoil({
  target,
  foil,
}: {
  target: { token: string };
  foil: { token: string };
}) {
  return (
    <div>
      <dt>target / foil</dt>
      <dd>
        <code className="tok">{visibleToken(target.token)}</code> vs{" "}
        <code className="tok">{visibleToken(foil.token)}</code>
      </dd>
    </div>
  );
}
