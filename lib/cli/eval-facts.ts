/**
 * `causeway eval-facts`: how well a model knows the facts of its dataset.json, measured with the
 * app's own engine: next-token top-1 accuracy of every known fact under each relation's trained
 * phrasings and under its held-out phrasings (never seen in training: paraphrase generalisation).
 *
 *   causeway eval-facts --model tiny-facts [--limit N] --json
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { DATASET_PARAMS } from "../params/table";
import { continuationTokens } from "../util/tokenizer";
import { paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { loadCliEngine } from "./engine";
import { resolveModel } from "./model-source";

interface Relation {
  relation_id: string;
  templates_train: string[];
  templates_heldout: string[];
}
interface Fact {
  subject: string;
  attribute: string;
  relation_id: string;
}

/** Accuracy tallies for one split, overall and by relation. */
class Tally {
  hits = 0;
  total = 0;
  readonly byRelation = new Map<string, { hits: number; total: number }>();
  add(relation: string, hit: boolean) {
    this.hits += hit ? 1 : 0;
    this.total += 1;
    const r = this.byRelation.get(relation) ?? { hits: 0, total: 0 };
    r.hits += hit ? 1 : 0;
    r.total += 1;
    this.byRelation.set(relation, r);
  }
  toJson() {
    const by: Record<string, number> = {};
    for (const [k, v] of this.byRelation) by[k] = v.hits / v.total;
    return { top1: this.total ? this.hits / this.total : 0, prompts: this.total, by_relation: by };
  }
}

export const evalFactsCommand: Command = {
  name: "eval-facts",
  usage: "causeway eval-facts --model M [--limit N] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      limit: { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const modelSpec = requireString(flags, "model");
    const { dir } = resolveModel(modelSpec);
    let dataset: { relations?: Relation[]; known_facts?: Fact[] };
    try {
      dataset = JSON.parse(readFileSync(path.join(dir, "dataset.json"), "utf8"));
    } catch (err) {
      throw new UsageError(`${dir}/dataset.json: ${(err as Error).message.split("\n")[0]}`);
    }
    if (!Array.isArray(dataset.relations) || !Array.isArray(dataset.known_facts)) {
      throw new UsageError(`${dir}/dataset.json has no "relations" and "known_facts" to evaluate`);
    }
    const relations = new Map(dataset.relations.map((r) => [r.relation_id, r]));
    const facts = dataset.known_facts.slice(0, paramFlag(flags, "limit", DATASET_PARAMS.limit));
    const { engine, backend } = await loadCliEngine(modelSpec, flags.backend as string | undefined);
    const trained = new Tally();
    const heldout = new Tally();
    try {
      for (const fact of facts) {
        const relation = relations.get(fact.relation_id);
        if (!relation)
          throw new UsageError(`known fact names unknown relation ${fact.relation_id}`);
        const [answer] = continuationTokens(engine.tokenizer, fact.attribute); // no BOS
        for (const [tally, templates] of [
          [trained, relation.templates_train],
          [heldout, relation.templates_heldout],
        ] as const) {
          for (const template of templates) {
            const top = await engine.predict(template.replace("{}", fact.subject), 1);
            tally.add(fact.relation_id, top.top[0].id === answer);
          }
        }
      }
    } finally {
      engine.dispose();
    }
    return {
      model: engine.info.name,
      backend,
      facts: facts.length,
      trained_phrasings: trained.toJson(),
      heldout_phrasings: heldout.toJson(),
    };
  },
};
