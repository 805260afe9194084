/**
 * The evaluation sets of canonical-examples editing as Hewitt et al. (2024) define them, built
 * from the synthetic world of dataset.json (docs/recipes.md "Canonical examples"). For a known
 * fact (subject s, relation r, the model's own answer a) written with a training template t:
 *
 *   canonical example  t(s) → a′, a′ the relation's next object after a (a counterfactual)
 *   held-out           r's other phrasings with s (lib/edit/canonical.ts canonicalPrompts)
 *   out of distribution the fact inside longer, differently built contexts: a story from the
 *                      world's general text before a held-out phrasing, or another subject's
 *                      true fact ("Gosre Statistis works as a doctor.", never naming the
 *                      suffix or the true answer) before it; the stories
 *                      come from general_text after the texts the deviation cap measures
 *   hard negatives     similar prompts whose answer must NOT change: t with other subjects of r
 *                      (their own answers), and s with other relations (s's other facts)
 *
 * Facts are taken in dataset order, one per subject, the validation ones first, then the test
 * ones (a split by fact: hyper-parameters are chosen on validation, reported on test).
 */
import { GaussianRng } from "../interp/rng";
import { canonicalPrompts } from "./canonical";
import { EditError } from "./types";

interface KnownFact {
  subject: string;
  attribute: string;
  template: string;
  prompt: string;
  relation_id: string;
}

interface Relation {
  relation_id: string;
  objects: string[];
  templates_train?: string[];
}

/** A prompt whose answer must stay the model's own. */
export interface HardNegative {
  prompt: string;
  answer: string;
  kind: "other_subject" | "other_relation";
}

export interface CanonicalCase {
  subject: string;
  relation_id: string;
  /** The rewrite as ROME/MEMIT read it: template with "{}" for the subject. */
  template: string;
  prefix: string;
  suffix: string;
  /** The model's answer before the edit. */
  answer: string;
  heldout: string[];
  ood: string[];
  negatives: HardNegative[];
}

export interface CaseOptions {
  /** Validation then test facts. */
  nVal: number;
  nTest: number;
  /** Out-of-distribution contexts per case (half stories, half distractor facts). */
  ood: number;
  /** Hard negatives of each kind per case. */
  negatives: number;
  /** General texts the deviation cap uses: stories come from after them. */
  capTexts: number;
  seed: number;
}

export const CASE_DEFAULTS: CaseOptions = {
  nVal: 4,
  nTest: 8,
  ood: 4,
  negatives: 3,
  capTexts: 100,
  seed: 0,
};

/** The first sentence of a story (a whole short story is a long context already). */
const firstSentences = (text: string, n: number) =>
  text
    .match(/[^.!?]+[.!?]/g)
    ?.slice(0, n)
    .join("")
    .trim() ?? text;

function need<T>(x: T | undefined, what: string): T {
  if (x === undefined || (Array.isArray(x) && x.length === 0))
    throw new EditError("bad_dataset", `the canonical evaluation needs dataset.json ${what}`);
  return x;
}

/** The facts of each relation in turn (P1's first, P2's first, …, P1's second, …). */
function byRelationRounds(facts: readonly KnownFact[]): KnownFact[] {
  const groups = new Map<string, KnownFact[]>();
  for (const f of facts) groups.set(f.relation_id, [...(groups.get(f.relation_id) ?? []), f]);
  const lists = [...groups.values()];
  const n = Math.max(...lists.map((l) => l.length));
  return Array.from({ length: n }, (_, i) =>
    lists.flatMap((l) => (i < l.length ? [l[i]] : [])),
  ).flat();
}

/** Validation and test cases from dataset.json (see the file comment). */
export function canonicalCases(
  dataset: unknown,
  o: Partial<CaseOptions> = {},
): { val: CanonicalCase[]; test: CanonicalCase[] } {
  const p = { ...CASE_DEFAULTS, ...o };
  const d = dataset as {
    known_facts?: KnownFact[];
    relations?: Relation[];
    general_text?: string[];
  };
  const facts = need(d?.known_facts, "known_facts");
  const rels = new Map(need(d?.relations, "relations").map((r) => [r.relation_id, r]));
  const stories = need(d?.general_text, "general_text").slice(p.capTexts);
  if (stories.length === 0)
    throw new EditError("bad_dataset", `general_text has no texts after the first ${p.capTexts}`);
  const rng = new GaussianRng(p.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.nextUniform() * xs.length)];

  const out: CanonicalCase[] = [];
  const seen = new Set<string>();
  for (const f of byRelationRounds(facts)) {
    if (out.length >= p.nVal + p.nTest) break;
    const rel = rels.get(f.relation_id);
    if (!rel?.templates_train?.includes(f.template) || seen.has(f.subject)) continue;
    const held = canonicalPrompts(dataset, f.prompt);
    if (!held || held.prompts.length === 0) continue;
    seen.add(f.subject);
    const suffix = rel.objects[(rel.objects.indexOf(f.attribute) + 1) % rel.objects.length];
    const others = facts.filter((g) => g.subject !== f.subject);
    // a distractor never names the suffix or the true answer (it would prime a copy)
    const distractors = others.filter((g) => g.attribute !== suffix && g.attribute !== f.attribute);
    const ood = Array.from({ length: p.ood }, (_, i) => {
      const phrasing = held.prompts[i % held.prompts.length];
      if (i % 2 === 0 || distractors.length === 0)
        return `${firstSentences(pick(stories), 2)} ${phrasing}`;
      const g = pick(distractors);
      return `${g.prompt}${g.attribute}. ${phrasing}`;
    });
    const sameRel = others.filter((g) => g.template === f.template && g.attribute !== suffix);
    const sameSubj = facts.filter(
      (g) => g.subject === f.subject && g.relation_id !== f.relation_id,
    );
    const negatives: HardNegative[] = [
      ...sameRel.slice(0, p.negatives).map((g) => ({
        prompt: g.prompt,
        answer: g.attribute,
        kind: "other_subject" as const,
      })),
      ...sameSubj.slice(0, p.negatives).map((g) => ({
        prompt: g.prompt,
        answer: g.attribute,
        kind: "other_relation" as const,
      })),
    ];
    out.push({
      subject: f.subject,
      relation_id: f.relation_id,
      template: f.template,
      prefix: f.prompt,
      suffix,
      answer: f.attribute,
      heldout: held.prompts,
      ood,
      negatives,
    });
  }
  if (out.length < p.nVal + p.nTest)
    throw new EditError(
      "bad_dataset",
      `dataset.json has ${out.length} usable known facts; ${p.nVal + p.nTest} asked for`,
    );
  return { val: out.slice(0, p.nVal), test: out.slice(p.nVal) };
}
