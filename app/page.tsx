/**
 * The one page. A server component, so it runs once at build time (static export): it reads
 * example prompts from the bundled model's dataset.json and hands them to the client app.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { TraceApp } from "@/components/TraceApp";

const DATASET = path.join(process.cwd(), "public", "models", "tiny-facts", "dataset.json");
const MAX_EXAMPLES = 4;

interface Dataset {
  known_facts?: { prompt?: unknown; relation_id?: unknown }[];
}

/** Up to `max` prompts of facts the bundled model knows, one per relation. */
function examplePrompts(max: number): string[] {
  let data: Dataset;
  try {
    data = JSON.parse(readFileSync(DATASET, "utf8")) as Dataset;
  } catch {
    return []; // no dataset bundled: the app works without examples
  }
  const picked = new Map<string, string>();
  for (const fact of Array.isArray(data.known_facts) ? data.known_facts : []) {
    if (picked.size >= max) break;
    const relation = String(fact.relation_id ?? "");
    if (typeof fact.prompt === "string" && fact.prompt.length > 0 && !picked.has(relation)) {
      picked.set(relation, fact.prompt);
    }
  }
  return [...picked.values()];
}

export default function Page() {
  const examples = examplePrompts(MAX_EXAMPLES);
  return <TraceApp initialPrompt={examples[0] ?? ""} examples={examples} />;
}
