/** Small, strict argument parsing on top of node:util parseArgs: unknown flags are errors. */
import { parseArgs } from "node:util";
import { inRange, type NumParam, rangeText } from "../params/schema";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type FlagSpec = Record<string, { type: "string" | "boolean"; default?: string | boolean }>;

/**
 * `--top -1` → `--top=-1`: parseArgs reads a value starting with "-" as a missing value
 * ("ambiguous"); a negative number is a value, which the flag's range check then judges.
 */
function joinNegativeNumbers(argv: string[], spec: FlagSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith("--") ? argv[i].slice(2) : null;
    const next = argv[i + 1];
    if (name && spec[name]?.type === "string" && next !== undefined && /^-\.?\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

export function parseFlags(argv: string[], spec: FlagSpec): Record<string, string | boolean> {
  try {
    const { values, positionals, tokens } = parseArgs({
      args: joinNegativeNumbers(argv, spec),
      options: spec,
      strict: true,
      allowPositionals: true,
      tokens: true,
    });
    const stray = positionals as string[];
    if (stray.length > 0) throw new UsageError(`unexpected argument "${stray[0]}"`);
    // every flag holds one value: a second one would silently replace the first
    const seen = new Set<string>();
    for (const t of tokens ?? []) {
      if (t.kind !== "option") continue;
      if (seen.has(t.name)) throw new UsageError(`--${t.name} is given more than once`);
      seen.add(t.name);
    }
    return values as Record<string, string | boolean>;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    // parseArgs errors are already one line, e.g. "Unknown option '--foo'".
    throw new UsageError((err as Error).message);
  }
}

export function requireString(flags: Record<string, string | boolean>, name: string): string {
  const v = flags[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`--${name} is required`);
  return v;
}

/**
 * A comma-separated list flag whose items must come from `allowed`; absent → undefined.
 * `listed` is how the error names the allowed values.
 */
export function choiceListFlag<T extends string>(
  flags: Record<string, string | boolean>,
  name: string,
  allowed: readonly T[],
  listed = allowed.join(", "),
): T[] | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const list = String(v)
    .split(",")
    .map((s) => s.trim());
  for (const x of list) {
    if (!allowed.includes(x as T))
      throw new UsageError(`--${name} takes a comma-separated list of ${listed}; got "${x}"`);
  }
  return list as T[];
}

/** Parses an integer flag within [min, max]; absent → fallback. */
export function intFlag(
  flags: Record<string, string | boolean>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

/** A flag checked against its row of the settings table (lib/params/table.ts); absent → default. */
export function paramFlag(
  flags: Record<string, string | boolean>,
  name: string,
  p: NumParam,
  /** A lower bound set by the model, e.g. the window ≤ n_layer; `why` says so. */
  model?: { max: number; why: string },
): number | undefined {
  const v = flags[name];
  if (v === undefined) return p.default ?? undefined;
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : Number.NaN;
  const max = model ? Math.min(model.max, p.max) : p.max;
  if (!inRange(p, n, max)) {
    throw new UsageError(
      `--${name} must be ${rangeText(p, max)}${model ? ` (${model.why})` : ""}, got "${v}"`,
    );
  }
  return n;
}
