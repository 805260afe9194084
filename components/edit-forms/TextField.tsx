"use client";
/**
 * A labelled text box of the edit forms (one line, or `rows` lines): the label, the box, and
 * what goes under it (help, a warning) as children.
 */
import { type ChangeEvent, type ReactNode, useId } from "react";

export function TextField({
  label,
  value,
  onChange,
  testId,
  placeholder,
  rows,
  className,
  children,
}: {
  /** Omitted: no label line (the box explains itself with its placeholder). */
  label?: string;
  value: string;
  onChange: (v: string) => void;
  testId: string;
  placeholder?: string;
  /** A text area of this many rows instead of one line. */
  rows?: number;
  /** More classes on the box. */
  className?: string;
  children?: ReactNode;
}) {
  const id = useId();
  const box = {
    id,
    className: className ? `field__input ${className}` : "field__input",
    value,
    placeholder,
    spellCheck: false,
    onChange: (e: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => onChange(e.target.value),
    "data-testid": testId,
  };
  return (
    <label className="field" htmlFor={id}>
      {label ? <span className="field__label">{label}</span> : null}
      {rows ? <textarea rows={rows} {...box} /> : <input {...box} />}
      {children}
    </label>
  );
}
