/**
 * The semantic-consistency recipe's facts (Yang et al. 2025, arXiv 2501.11041; docs/recipes.md):
 * each known fact of a model's dataset.json with every phrasing of its relation (the trained and
 * the held-out templates), so that every pair of phrasings is a pair of semantically equivalent
 * prompts. Nothing here is labelled: the labels come from the model's own answers
 * (./consistency-metric.ts).
 *
 * Relations, not facts, are split into train and held-out: heads, K and α are chosen on the
 * train relations only and the result is reported on relations the recipe never saw.
 */
import { isObj } from "./parse-checker";
import { EditError } from "./types";

export interface ConsistencyFact {
  subject: string;
  relation_id: string;
  /** The true object as the dataset writes it (" Parrow"). */
  answer: string;
  /** One prompt per template of the relation, trained templates first. */
  prompts: string[];
}

export interface ConsistencyData {
  facts: ConsistencyFact[];
  /** Every relation with facts, in the dataset's order. */
  relations: string[];
}

const isTemplates = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((s) => typeof s === "string" && s.split("{}").length === 2);

/**
 * The facts of a dataset.json (untrusted: every field read is checked): `relations` with
 * `templates_train` / `templates_heldout` (each with one "{}"), `known_facts` with subject,
 * attribute and relation_id. A fact appears once per (subject, relation); at most `perRelation`
 * facts of each relation are kept, in the file's order.
 */
export function consistencyData(json: unknown, perRelation = Infinity, file = "dataset.json") {
  if (!isObj(json) || !Array.isArray(json.relations) || !Array.isArray(json.known_facts)) {
    throw new EditError("bad_dataset", `${file} has no "relations" and "known_facts" lists`);
  }
  const templates = new Map<string, string[]>();
  json.relations.forEach((r, i) => {
    if (
      !isObj(r) ||
      typeof r.relation_id !== "string" ||
      !isTemplates(r.templates_train) ||
      !isTemplates(r.templates_heldout ?? [])
    ) {
      throw new EditError(
        "bad_dataset",
        `${file}: relations[${i}] needs relation_id and templates_train / templates_heldout, each template with one "{}"`,
      );
    }
    const all = [...r.templates_train, ...((r.templates_heldout as string[] | undefined) ?? [])];
    templates.set(r.relation_id, all);
  });
  const seen = new Set<string>();
  const count = new Map<string, number>();
  const facts: ConsistencyFact[] = [];
  json.known_facts.forEach((f, i) => {
    if (
      !isObj(f) ||
      typeof f.subject !== "string" ||
      typeof f.attribute !== "string" ||
      typeof f.relation_id !== "string"
    ) {
      throw new EditError(
        "bad_dataset",
        `${file}: known_facts[${i}] needs subject, attribute and relation_id strings`,
      );
    }
    const t = templates.get(f.relation_id);
    if (!t)
      throw new EditError(
        "bad_dataset",
        `${file}: known_facts[${i}] names unknown relation ${f.relation_id}`,
      );
    const subject = f.subject;
    const key = `${f.relation_id}\u0000${subject}`;
    const n = count.get(f.relation_id) ?? 0;
    if (seen.has(key) || n >= perRelation || t.length < 2) return;
    seen.add(key);
    count.set(f.relation_id, n + 1);
    facts.push({
      subject,
      relation_id: f.relation_id,
      answer: f.attribute,
      prompts: t.map((x) => x.replace("{}", () => subject)),
    });
  });
  const relations = [...templates.keys()].filter((r) => count.has(r));
  if (relations.length < 2) {
    throw new EditError(
      "bad_dataset",
      `${file}: the recipe needs facts of at least two relations with two or more phrasings (train and held-out relations)`,
    );
  }
  return { facts, relations } satisfies ConsistencyData;
}

/**
 * Train and held-out relations: the given held-out list, or by default every second relation in
 * the dataset's order (P2, P4, … on tiny-facts), so both halves mix large and small relations.
 */
export function splitRelations(
  relations: readonly string[],
  heldout?: readonly string[],
): { train: string[]; heldout: string[] } {
  const held = heldout ?? relations.filter((_, i) => i % 2 === 1);
  for (const r of held) {
    if (!relations.includes(r)) {
      throw new EditError(
        "bad_edit",
        `held-out relation ${r} has no facts here (relations: ${relations.join(", ")})`,
      );
    }
  }
  const train = relations.filter((r) => !held.includes(r));
  if (train.length === 0 || held.length === 0) {
    throw new EditError("bad_edit", "the train and the held-out relations must both be non-empty");
  }
  return { train, heldout: [...held] };
}
