/**
 * The one page. A server component, so it runs once at build time (static export): it reads
 * example prompts from the bundled model's dataset.json and hands them to the client app.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { TraceApp } from "@/components/TraceApp";

const DATASET = path.join(process.cwd(), "public", "models", "tiny-facts", "dataset.json");
const MAX_EXAMPLES = 4;

/** Up to `max` distinct strings found under a "prompt" key anywhere in the dataset. */
function examplePrompts(max: number): string[] {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(DATASET, "utf8"));
  } catch {
    return []; // no dataset bundled (yet): the app works without examples
  }
  const found = new Set<string>();
  const walk = (v: unknown): void => {
    if (found.size >= max * 8 || v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      if (k === "prompt" && typeof x === "string" && x.length > 0 && x.length < 90) found.add(x);
      else walk(x);
    }
  };
  walk(data);
  // Spread the picks over what was found so they show different relations.
  const all = [...found];
  const step = Math.max(1, Math.floor(all.length / max));
  return all.filter((_, i) => i % step === 0).slice(0, max);
}

export default function Page() {
  const examples = examplePrompts(MAX_EXAMPLES);
  return <TraceApp initialPrompt={examples[0] ?? ""} examples={examples} />;
}
