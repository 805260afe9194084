/**
 * One run of the semantic-consistency recipe as the CLI and the app report it: locate on the
 * train relations, choose K and α there (a small grid, unless both are given), then measure
 * consistency and accuracy before and after on the train and the held-out relations.
 *
 * The choice: the (K, α) with the highest train consistency whose train accuracy stays within
 * 0.02 of the unedited model's; ties go to the smaller K, then the smaller α. Held-out relations
 * are never looked at until the edit is fixed.
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import {
  CONSISTENCY_DEFAULTS,
  type ConsistencyLocate,
  type ConsistencySettings,
  consistencyEdit,
  locateConsistency,
  type RelationScore,
  scoreEdit,
} from "./consistency";
import { editDims } from "./family-sites";
import { EditError, type HeadRef, type HeadSteerEdit, type SteerScale } from "./types";

export const K_GRID = [1, 2, 4, 8] as const;
export const ALPHA_GRID = [1, 2, 4, 8, 16] as const;
/** How much train accuracy a chosen (K, α) may lose. */
export const ACCURACY_SLACK = 0.02;

export interface SweepPoint {
  k: number;
  alpha: number;
  consistency: number;
  accuracy: number;
}

export interface ConsistencyRun {
  settings: ConsistencySettings;
  relations: { train: string[]; heldout: string[] };
  facts: { train: number; heldout: number };
  pairs: ConsistencyLocate["pairs"];
  probe: {
    accuracy: number[][];
    format_accuracy: number;
    n_train: number;
    n_val: number;
    ranking: (HeadRef & { accuracy: number })[];
  };
  k: number;
  alpha: number;
  scale: SteerScale;
  chosen_by: "given" | "train sweep";
  sweep: SweepPoint[];
  before: { train: RelationScore; heldout: RelationScore };
  after: { train: RelationScore; heldout: RelationScore };
  edit: HeadSteerEdit;
}

export interface ConsistencyProgress {
  phase: "locate" | "sweep" | "measure";
  done: number;
  total: number;
}

export interface RunOptions {
  k?: number;
  alpha?: number;
  scale?: SteerScale;
  settings?: Partial<ConsistencySettings>;
  /** Progress: "locate" (answers, probes), "sweep" (point done of total), "measure". */
  onProgress?: (p: ConsistencyProgress) => void;
}

export async function runConsistency(
  model: Gpt2Model,
  tok: TextTokenizer,
  datasetJson: unknown,
  o: RunOptions = {},
): Promise<ConsistencyRun> {
  const settings = { ...CONSISTENCY_DEFAULTS, ...o.settings };
  const scale = o.scale ?? "iti";
  const { nLayer, nHead } = editDims(model.config);
  if (o.k !== undefined && (!Number.isInteger(o.k) || o.k < 1 || o.k > nLayer * nHead)) {
    // refused before any work: the model has nLayer × nHead heads to choose from
    throw new EditError(
      "bad_edit",
      `K must be a whole number from 1 to ${nLayer * nHead}, got ${o.k}`,
    );
  }
  o.onProgress?.({ phase: "locate", done: 0, total: 1 });
  const loc = await locateConsistency(model, tok, datasetJson, settings);
  const maxK = loc.probe.ranking.length;
  const ks = o.k !== undefined ? [o.k] : K_GRID.filter((k) => k <= maxK);
  const alphas = o.alpha !== undefined ? [o.alpha] : [...ALPHA_GRID];
  const sweep: SweepPoint[] = [];
  const points = ks.length * alphas.length;
  if (points > 1) {
    for (const k of ks) {
      for (const alpha of alphas) {
        o.onProgress?.({ phase: "sweep", done: sweep.length, total: points });
        const s = await scoreEdit(model, tok, loc, consistencyEdit(loc, { k, alpha, scale }), [
          "train",
        ]);
        sweep.push({ k, alpha, consistency: s.train!.consistency, accuracy: s.train!.accuracy });
      }
    }
  }
  const best = sweep.length ? chooseKAlpha(sweep, loc.before.train.accuracy) : null;
  const k = best?.k ?? ks[0];
  const alpha = best?.alpha ?? alphas[0];
  const edit = consistencyEdit(loc, { k, alpha, scale });
  o.onProgress?.({ phase: "measure", done: 0, total: 1 });
  const after = await scoreEdit(model, tok, loc, edit);
  return {
    settings,
    relations: loc.relations,
    facts: { train: loc.facts.train.length, heldout: loc.facts.heldout.length },
    pairs: loc.pairs,
    probe: {
      accuracy: loc.probe.accuracy,
      format_accuracy: loc.probe.format_accuracy,
      n_train: loc.probe.n_train,
      n_val: loc.probe.n_val,
      ranking: loc.probe.ranking,
    },
    k,
    alpha,
    scale,
    chosen_by: best ? "train sweep" : "given",
    sweep,
    before: loc.before,
    after: { train: after.train!, heldout: after.heldout! },
    edit,
  };
}

/** The sweep point with the best train consistency among those that keep train accuracy. */
export function chooseKAlpha(sweep: readonly SweepPoint[], baseAccuracy: number): SweepPoint {
  const ok = sweep.filter((p) => p.accuracy >= baseAccuracy - ACCURACY_SLACK);
  const pool = ok.length ? ok : sweep;
  return pool.reduce((best, p) => (p.consistency > best.consistency ? p : best));
}
