/**
 * The semantic-consistency recipe (Yang et al. 2025, arXiv 2501.11041) end to end, on a model and
 * its dataset.json (docs/recipes.md "Semantic consistency"):
 *
 *   answers   the model's top-1 token after every phrasing of every fact (./consistency-data.ts)
 *   locate    pairs labelled by those answers, balanced per template pair, a probe per head on
 *             the train relations, the top-K heads and their directions (./consistency-probe.ts)
 *   edit      one head_steer edit (ITI α·σ·θ, or raw α·b) on those heads at the last position,
 *             carrying its learned directions so the stack applies it as it is
 *   measure   consistency and accuracy (./consistency-metric.ts) before and after, on the train
 *             and the held-out relations
 *
 * The CLI (`causeway consistency`) and the app's head form both call runConsistency, so the same
 * seed gives the same numbers in both.
 */

import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { continuationTokens } from "../util/tokenizer";
import { applyEdits, baseOf, type ModelLike } from "./apply";
import { type ConsistencyFact, consistencyData, splitRelations } from "./consistency-data";
import {
  type ConsistencyScore,
  consistencyByRelation,
  type FactAnswers,
  labelPairs,
} from "./consistency-metric";
import { CONSISTENCY_PARAMS } from "./consistency-params";
import {
  balancePairs,
  type ConsistencyProbe,
  probeConsistency,
  type StratifiedPair,
  valFacts,
} from "./consistency-probe";
import { editDims } from "./family-sites";
import { encodeAll, lastTokenHeadOutputs } from "./heads";
import { tokenArgmax } from "./metrics";
import { EditError, type HeadSteerEdit, type SteerScale } from "./types";

export interface ConsistencySettings {
  /** Facts kept per relation (the file's first N). */
  perRelation: number;
  seed: number;
  /** Share of the train relations' facts that score the probes. */
  valRatio: number;
  /** Held-out relations (default: every second relation of the dataset). */
  heldout?: string[];
}

export const CONSISTENCY_DEFAULTS: ConsistencySettings = {
  perRelation: CONSISTENCY_PARAMS.facts.default,
  seed: CONSISTENCY_PARAMS.seed.default ?? 0,
  valRatio: CONSISTENCY_PARAMS.valRatio.default ?? 0.2,
};

/** Top-1 answers of a model (plain or edited) on every phrasing of every fact. */
export async function answerFacts(
  model: ModelLike,
  tok: TextTokenizer,
  facts: readonly ConsistencyFact[],
): Promise<FactAnswers[]> {
  const rows = encodeAll(
    model,
    tok,
    facts.flatMap((f) => f.prompts),
  );
  const top = await tokenArgmax(
    model,
    rows,
    rows.map((r) => [r.length - 1]),
  );
  let k = 0;
  return facts.map((f) => {
    const [answer_id] = continuationTokens(tok, f.answer);
    const top1 = f.prompts.map(() => top[k++][0]);
    return { relation_id: f.relation_id, answer_id, top1 };
  });
}

export type RelationScore = ConsistencyScore & { by_relation: Record<string, ConsistencyScore> };

export interface ConsistencyLocate {
  relations: { train: string[]; heldout: string[] };
  facts: { train: ConsistencyFact[]; heldout: ConsistencyFact[] };
  before: { train: RelationScore; heldout: RelationScore };
  pairs: { all: number; consistent: number; balanced: number; strata: number };
  probe: ConsistencyProbe;
  /** The prompts behind the directions: members of consistent / inconsistent balanced pairs. */
  members: { positive: string[]; negative: string[] };
  settings: ConsistencySettings;
}

/** Answers, labels, balanced pairs, per-head probes and directions on the train relations. */
export async function locateConsistency(
  model: ModelLike,
  tok: TextTokenizer,
  datasetJson: unknown,
  settings: ConsistencySettings = CONSISTENCY_DEFAULTS,
): Promise<ConsistencyLocate> {
  const data = consistencyData(datasetJson, settings.perRelation);
  const relations = splitRelations(data.relations, settings.heldout);
  const train = data.facts.filter((f) => relations.train.includes(f.relation_id));
  const heldout = data.facts.filter((f) => relations.heldout.includes(f.relation_id));
  const trainAnswers = await answerFacts(model, tok, train);
  const heldAnswers = await answerFacts(model, tok, heldout);
  const labelled = labelPairs(trainAnswers);
  const stratified: StratifiedPair[] = labelled.map((p) => ({
    ...p,
    stratum: `${train[p.fact].relation_id}:${p.i}-${p.j}`,
  }));
  const val = valFacts(train.length, settings.valRatio, settings.seed);
  const pairs = balancePairs(stratified, settings.seed, (p) => (val.has(p.fact) ? "val" : "train"));
  const nVal = pairs.filter((p) => val.has(p.fact)).length;
  if (nVal < 2 || pairs.length - nVal < 2) {
    throw new EditError(
      "bad_dataset",
      `too few balanced paraphrase pairs on the train relations (${pairs.length - nVal} to fit the probes, ${nVal} to score them; 2 of each needed): the model answers nearly every pair alike, so use more facts per relation`,
    );
  }
  const offsets: number[] = [];
  let n = 0;
  for (const f of train) {
    offsets.push(n);
    n += f.prompts.length;
  }
  const acts = await lastTokenHeadOutputs(
    model,
    tok,
    train.flatMap((f) => f.prompts),
  );
  const { nHead, headDim } = editDims(baseOf(model).config);
  const probe = probeConsistency({
    acts,
    row: (f, i) => offsets[f] + i,
    pairs,
    nFacts: train.length,
    nHead,
    headDim,
    seed: settings.seed,
    valRatio: settings.valRatio,
  });
  const members = (c: boolean) =>
    pairs
      .filter((p) => p.consistent === c)
      .flatMap((p) => [train[p.fact].prompts[p.i], train[p.fact].prompts[p.j]]);
  return {
    relations,
    facts: { train, heldout },
    before: {
      train: consistencyByRelation(trainAnswers),
      heldout: consistencyByRelation(heldAnswers),
    },
    pairs: {
      all: labelled.length,
      consistent: labelled.filter((p) => p.consistent).length,
      balanced: pairs.length,
      strata: new Set(pairs.map((p) => p.stratum)).size,
    },
    probe,
    members: { positive: members(true), negative: members(false) },
    settings,
  };
}

/**
 * The head_steer edit on the top K heads, with the located directions as its learned values
 * (re-learning it from its prompt lists gives the same directions: ./heads.ts).
 */
export function consistencyEdit(
  loc: ConsistencyLocate,
  o: { k: number; alpha: number; scale?: SteerScale },
): HeadSteerEdit {
  const total = loc.probe.ranking.length;
  if (!Number.isInteger(o.k) || o.k < 1 || o.k > total) {
    throw new EditError("bad_edit", `K must be a whole number from 1 to ${total}, got ${o.k}`);
  }
  const heads = loc.probe.ranking.slice(0, o.k);
  return {
    kind: "head_steer",
    label: `consistency: top ${o.k} heads, α ${o.alpha}`,
    site: { heads: heads.map(({ layer, head }) => ({ layer, head })), position: "last" },
    params: {
      alpha: o.alpha,
      scale: o.scale ?? "iti",
      positive: loc.members.positive,
      negative: loc.members.negative,
      seed: loc.settings.seed,
      val_ratio: loc.settings.valRatio,
    },
    learned: {
      heads: heads.map((h) => ({
        layer: h.layer,
        head: h.head,
        ...loc.probe.directions[h.layer][h.head],
        accuracy: h.accuracy,
      })),
      probe_accuracy: loc.probe.accuracy,
    },
  };
}

/**
 * Consistency and accuracy on the train and held-out relations with the edit applied to the
 * unedited model (the recipe is measured on its own, not on top of the app's stack).
 */
export async function scoreEdit(
  model: Gpt2Model,
  tok: TextTokenizer,
  loc: ConsistencyLocate,
  edit: HeadSteerEdit,
  which: ("train" | "heldout")[] = ["train", "heldout"],
): Promise<Partial<Record<"train" | "heldout", RelationScore>>> {
  const edited = applyEdits(model, [edit]);
  try {
    const out: Partial<Record<"train" | "heldout", RelationScore>> = {};
    for (const w of which) {
      out[w] = consistencyByRelation(await answerFacts(edited, tok, loc.facts[w]));
    }
    return out;
  } finally {
    edited.dispose();
  }
}
