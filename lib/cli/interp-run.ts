/**
 * What `causeway heads | lens | dla | attrib` share: the model and backend flags, loading the
 * engine, turning spec errors into one-line usage errors, and freeing the engine afterwards.
 */
import type { Engine } from "../engine";
import { type FlagSpec, intFlag, requireString } from "./args";
import { loadCliEngine } from "./engine";
import { asUsage } from "./trace";

export const ENGINE_FLAGS: FlagSpec = {
  model: { type: "string", default: "tiny-facts" },
  backend: { type: "string" },
  json: { type: "boolean", default: false },
};

/** An optional integer flag: undefined when absent (the lib's default), else checked. */
export function optionalInt(
  flags: Record<string, string | boolean>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  return flags[name] === undefined ? undefined : intFlag(flags, name, min, min, max);
}

/** Loads --model on --backend, runs `job`, returns its result with the backend's name. */
export async function runOnEngine<R extends object>(
  flags: Record<string, string | boolean>,
  job: (engine: Engine) => Promise<R>,
): Promise<R & { backend: string }> {
  const { engine, backend } = await loadCliEngine(
    requireString(flags, "model"),
    flags.backend as string | undefined,
  );
  try {
    const r = await job(engine).catch(asUsage);
    return { ...r, backend };
  } finally {
    engine.dispose();
  }
}

/** A [rows][cols] grid as fixed-width text, one labelled line per row. */
export function gridText(rows: number[][], label: (i: number) => string, digits = 3): string[] {
  return rows.map(
    (row, i) =>
      `${label(i).padEnd(8)}${row.map((v) => v.toFixed(digits).padStart(digits + 5)).join("")}`,
  );
}
