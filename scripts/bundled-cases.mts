/**
 * What the ROME study scripts (rome-tune, rome-preserve-cost) open first: the bundled tiny-facts
 * on the wasm backend, its dataset.json, and the case ids a spec names ("50:100" or "61,87,96").
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseEditDataset } from "../lib/edit/dataset.ts";
import { selectBackend } from "../lib/model/backend.ts";
import { BUNDLED_DIR, loadEngine } from "../test/interp-helpers.ts";

/** "a:b" → a … b − 1; "x,y,z" → those ids. */
export function caseIds(spec: string): number[] {
  if (!spec.includes(":")) return spec.split(",").map(Number);
  const [a, b] = spec.split(":").map(Number);
  return Array.from({ length: b - a }, (_, i) => a + i);
}

export async function openBundled() {
  await selectBackend(["wasm"]);
  const engine = await loadEngine(BUNDLED_DIR);
  const dataset = parseEditDataset(
    JSON.parse(readFileSync(path.join(BUNDLED_DIR, "dataset.json"), "utf8")),
  );
  return { engine, dataset };
}
