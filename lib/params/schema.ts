/**
 * What one numeric setting is: its default, range, unit and a line of doc. Every layer that
 * takes the setting (CLI flags, the store's checks, the forms, the share-link codec, the engine's
 * spec check) reads the same row of ./table.ts, so a value one layer accepts the others accept
 * too (test/share-params.test.ts).
 */
import type { Bound } from "../edit/bounds";

export interface NumParam {
  /** Whole numbers only. */
  integer: boolean;
  min: number;
  /** true: min itself is excluded (a learning rate > 0). */
  minExclusive?: boolean;
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
  const what = p.integer ? "a whole number" : "a number";
  return p.minExclusive
    ? `${what} above ${fmt(p.min)}, at most ${fmt(max)}`
    : `${what} from ${fmt(p.min)} to ${fmt(max)}`;
}

/** True when `v` is a value of `p` (at most `max`, when a model lowers the bound). */
export function inRange(p: NumParam, v: unknown, max = p.max): v is number {
  return (
    typeof v === "number" &&
    Number.isFinite(v) &&
    (!p.integer || Number.isInteger(v)) &&
    (p.minExclusive ? v > p.min : v >= p.min) &&
    v <= max
  );
}

/** null when `v` is fine, else "<Label> must be a whole number from 1 to 1000". */
export function paramError(p: NumParam, v: unknown, max = p.max): string | null {
  if (inRange(p, v, max)) return null;
  const label = p.label.charAt(0).toUpperCase() + p.label.slice(1);
  return `${label} must be ${rangeText(p, max)}`;
}

/**
 * An edit recipe's bound (lib/edit/bounds.ts, the edit parser's own table) as a setting, for the
 * CLI's edit flags and the edit forms: the same range, so what they accept the parser accepts.
 */
export function fromBound(
  b: Bound,
  o: { integer: boolean; label: string; default?: number | null },
): NumParam {
  return {
    integer: o.integer,
    min: b.min,
    max: b.max,
    ...(b.minExclusive ? { minExclusive: true } : {}),
    default: o.default ?? null,
    label: o.label,
    doc: b.doc,
  };
}
