/**
 * The one page. A server component, so it runs once at build time (static export): it reads
 * example facts from the bundled model's dataset.json (one per relation), pairs each with a
 * counterfactual of the same template and number of tokens (for the trace's counterfactual
 * corruption and for head patching), and hands them to the client app.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { TraceApp } from "@/components/TraceApp";
import { TextTokenizer } from "@/lib/load/tokenizer";
import type { ExampleFact } from "@/lib/store";

const MODEL_DIR = path.join(process.cwd(), "public", "models", "tiny-facts");
const MAX_EXAMPLES = 4;

interface Fact {
  prompt?: unknown;
  subject?: unknown;
  attribute?: unknown;
  template?: unknown;
  relation_id?: unknown;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v.length > 0 ? v : null;
}

/** Token counts from the bundled tokenizer, or null when it cannot be read. */
function tokenCounter(): ((text: string) => number) | null {
  try {
    const tok = TextTokenizer.fromJson(
      readFileSync(path.join(MODEL_DIR, "tokenizer.json"), "utf8"),
    );
    return (text) => tok.encode(text).length;
  } catch {
    return null;
  }
}

/** Up to `max` facts the bundled model knows, one per relation, with counterfactuals. */
function exampleFacts(max: number): ExampleFact[] {
  let facts: Fact[];
  try {
    const data = JSON.parse(readFileSync(path.join(MODEL_DIR, "dataset.json"), "utf8")) as {
      known_facts?: Fact[];
    };
    facts = Array.isArray(data.known_facts) ? data.known_facts : [];
  } catch {
    return []; // no dataset bundled: the app works without examples
  }
  const count = tokenCounter();
  const picked = new Map<string, ExampleFact>();
  for (const fact of facts) {
    if (picked.size >= max) break;
    const relation = String(fact.relation_id ?? "");
    const prompt = str(fact.prompt);
    const subject = str(fact.subject);
    const attribute = str(fact.attribute);
    if (!prompt || !subject || !attribute || picked.has(relation)) continue;
    const example: ExampleFact = { prompt, subject, attribute };
    if (count) {
      const n = count(prompt);
      const cf = facts.find(
        (f) =>
          f !== fact &&
          f.template === fact.template &&
          str(f.prompt) &&
          str(f.subject) &&
          str(f.attribute) &&
          f.attribute !== attribute &&
          f.subject !== subject &&
          count(f.prompt as string) === n,
      );
      if (cf) {
        example.counterfactual = {
          prompt: cf.prompt as string,
          subject: cf.subject as string,
          attribute: cf.attribute as string,
        };
      }
    }
    picked.set(relation, example);
  }
  return [...picked.values()];
}

export default function Page() {
  const facts = exampleFacts(MAX_EXAMPLES);
  const examples = facts.map((f) => f.prompt);
  return <TraceApp initialPrompt={examples[0] ?? ""} examples={examples} facts={facts} />;
}
