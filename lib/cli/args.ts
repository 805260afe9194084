/** Small, strict argument parsing on top of node:util parseArgs: unknown flags are errors. */
import { parseArgs } from "node:util";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export type FlagSpec = Record<string, { type: "string" | "boolean"; default?: string | boolean }>;

export function parseFlags(argv: string[], spec: FlagSpec): Record<string, string | boolean> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: spec,
      strict: true,
      allowPositionals: true,
    });
    const stray = positionals as string[];
    if (stray.length > 0) throw new UsageError(`unexpected argument "${stray[0]}"`);
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

/** Parses a finite number flag within [min, max]; absent → fallback. */
export function numberFlag(
  flags: Record<string, string | boolean>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = flags[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== "string" || v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${v}"`);
  }
  return n;
}
