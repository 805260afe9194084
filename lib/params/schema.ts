/**
 * What one numeric setting is: its default, range, unit and a line of doc. Every layer that
 * takes the setting (CLI flags, the store's checks, the forms, the share-link codec, the engine's
 * spec check) reads the same row of ./table.ts, so a value one layer accepts the others accept
 * too (test/params-table.test.ts).
 */

export interface NumParam {
  /** Whole numbers only. */
  integer: boolean;
  min: number;
  /** The documented upper bound, checked before any work starts (issue 10.14). */
  max: number;
  /** null: depends on the model (e.g. the window) or "not set". */
  default: number | null;
  unit?: string;
  /** Its name in sentences ("the noise multiplier"). */
  label: string;
  doc: string;
}

const fmt = (n: number) =>
  Number.isInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString("en-US") : String(n);

/** "a whole number from 1 to 1,000" / "a number from 0 to 1000". */
export function rangeText(p: NumParam, max = p.max): string {
  return `${p.integer ? "a whole number" : "a number"} from ${fmt(p.min)} to ${fmt(max)}`;
}

/** True when `v` is a value of `p` (at most `max`, when a model lowers the bound). */
export function inRange(p: NumParam, v: unknown, max = p.max): v is number {
  return (
    typeof v === "number" &&
    Number.isFinite(v) &&
    (!p.integer || Number.isInteger(v)) &&
    v >= p.min &&
    v <= max
  );
}

/** null when `v` is fine, else "<Label> must be a whole number from 1 to 1000". */
export function paramError(p: NumParam, v: unknown, max = p.max): string | null {
  if (inRange(p, v, max)) return null;
  const label = p.label.charAt(0).toUpperCase() + p.label.slice(1);
  return `${label} must be ${rangeText(p, max)}`;
}
