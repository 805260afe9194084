/**
 * A plain `--model` name that is neither a bundled model nor a folder becomes a hub download.
 * A near miss of a bundled name ("tiny-fact") is refused with the list instead, and any other hub
 * fetch says so on stderr before it starts (issue 10.4); `hub:<id>` asks for the hub explicitly.
 */
import { existsSync } from "node:fs";
import { UsageError } from "./args";

/** Refuses a name within two edits of a bundled model's name (and not that name). */
export function refuseNearMiss(spec: string, bundled: readonly string[]): void {
  if (spec.startsWith("hub:") || bundled.includes(spec) || existsSync(spec)) return;
  // the nearest name ("tiny-facts-lama" → tiny-facts-llama, not tiny-facts)
  const [close] = bundled
    .map((b) => ({ b, d: editDistance(spec.toLowerCase(), b.toLowerCase()) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d)
    .map(({ b }) => b);
  if (close) {
    throw new UsageError(
      `--model "${spec}" is not a bundled model; did you mean "${close}"? (bundled: ${bundled.join(", ")}; write hub:${spec} to fetch it from the hub)`,
    );
  }
}

/** The stderr line announcing a hub fetch that `--model` did not ask for with `hub:`. */
export function hubFetchNotice(spec: string, sourceLabel: string): string | null {
  if (spec.startsWith("hub:") || !sourceLabel.startsWith("hub:")) return null;
  // hub-source labels read "hub:<repo>@<revision> (<endpoint>)"
  const endpoint = /\(([^()]+)\)$/.exec(sourceLabel)?.[1] ?? "the hub";
  return `causeway: note: "${spec}" is not a bundled model or a folder; fetching it from ${endpoint}`;
}

/** Levenshtein distance (the names compared are short). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
