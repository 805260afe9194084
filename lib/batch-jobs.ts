/**
 * The batch / sequential editing request of the app (issue 14; lib/protocol.ts re-exports it):
 * the page's Batch form sends a `batchEdit` run, the worker's edit lane (workers/batch-job.ts)
 * runs it through the same lib/edit/eval-run.ts runEditEval that `causeway edit --counterfact …
 * --batch … --sequential` runs, and answers:
 *
 *   progress {phase "stats"}     C of one layer: read from browser storage or computed
 *   progress {phase "unedited"}  the model before the run scored on the cases
 *   progress {phase "edit"}      one optimisation step of a request of batch `batch`
 *   progress {phase "learned"}   a batch's learned edits (the store keeps them: a cancelled or
 *                                failed run loses none of them)
 *   progress {phase "score"}     a batch scored; in sequential mode with its curve point
 *   batchEdit {result}           the run's scores, curve and cases (as the CLI's --json)
 *   done / error                 (a cancel answers error "cancelled")
 *
 * `batchMethods` answers the editing methods this build has (lib/edit/eval-methods.ts, read
 * from lib/edit/batch-edit.ts BATCH_METHODS in the worker, so the page never lists one that the
 * worker would refuse).
 */

import { MAX_TEXT_CHARS } from "./edit/bounds";
import type { CounterFactCase } from "./edit/dataset";
import type { CurvePoint, EditRunResult } from "./edit/eval-run";
import type { ZsreRecord } from "./edit/eval-zsre";
import { isObj } from "./edit/parse-checker";
import {
  COV_SOURCES,
  type CovSource,
  type Edit,
  EditError,
  type MemitHparams,
  type SweaHparams,
} from "./edit/types";
import { MAX_IMPORT_ITEMS } from "./load/dataset-import";
import { inRange, paramError } from "./params/schema";
import { EDIT_PARAMS, EDIT_RUN_PARAMS } from "./params/table";

/** Where the run's cases come from. */
export type BatchCases =
  /** The loaded model's dataset.json, cases [start, start + count) of the suite. */
  | { from: "model"; suite: "counterfact" | "zsre"; start: number; count: number }
  /** CounterFact cases given by the page (an imported file, or pasted rewrites). */
  | { from: "given"; suite: "counterfact"; counterfact: CounterFactCase[] }
  | { from: "given"; suite: "zsre"; zsre: ZsreRecord[] };

export interface BatchRunSpec {
  /** An editing method by name (lib/edit/eval-methods.ts METHOD_NAMES, e.g. "memit+blue"). */
  method: string;
  cases: BatchCases;
  /** Requests per batch (lib/params/table.ts EDIT_RUN_PARAMS.batch). */
  batch: number;
  sequential: boolean;
  /** The MLP layers (rome: the first); default per method. */
  layers?: number[];
  /** C's corpus: ROME's cov and MEMIT's mom2_dataset. */
  cov: CovSource;
  /** A corpus the user brought (replaces the dataset's general_text for C and the loss ratio). */
  corpus?: string[];
  /** ROME's optimisation steps / MEMIT's v_num_grad_steps (default per method). */
  steps?: number;
  /**
   * More hyper-parameters by their hparams files' names: MEMIT's / AlphaEdit's / PMET's, or
   * SWEA's (each method reads its own names; lib/edit/swea-batch.ts).
   */
  hparams?: MemitHparams & SweaHparams;
  /** Generation fluency (the costly part; the CLI's default, off with --no-fluency). */
  fluency: boolean;
  /** General texts for the loss ratio (EDIT_RUN_PARAMS.texts). */
  texts: number;
  /** Read and write C in browser storage (IndexedDB) per model, layer and corpus. */
  cacheStats: boolean;
}

export type BatchPhase = "stats" | "unedited" | "edit" | "learned" | "score";

export interface BatchProgressMsg {
  request: "batchEdit";
  phase: BatchPhase;
  /** stats: layer index of `total`; unedited: cases; edit/learned/score: batch of `total`. */
  done: number;
  total: number;
  /** stats: the layer, the corpus texts done of `of`, and where its C came from. */
  layer?: number;
  texts?: number;
  of?: number;
  source?: "storage" | "computed" | "memory";
  /** edit: the request in the batch and its optimisation step. */
  request_index?: number;
  step?: number;
  steps?: number;
  loss?: number;
  /** learned: the batch's edits, ready for the stack. */
  edits?: Edit[];
  /** score (sequential): the curve point after this batch. */
  point?: CurvePoint;
  /** stats: a storage problem (quota, unavailable) that did not stop the run. */
  note?: string;
}

/** The run's result without its edits (they came with the "learned" progress). */
export type BatchRunResult = Omit<EditRunResult, "edits"> & {
  /** Where each layer's C came from. */
  stats: { layer: number; source: "storage" | "computed" | "memory" }[];
};

export type { CurvePoint, EditRunResult };

const bad = (msg: string): never => {
  throw new EditError("bad_edit", `batch run: ${msg}`);
};

/** A corpus sent with a run: 1 to MAX_IMPORT_ITEMS non-empty texts within the length bound. */
export function checkCorpus(corpus: unknown): string[] {
  if (!Array.isArray(corpus) || corpus.length === 0 || corpus.length > MAX_IMPORT_ITEMS) {
    return bad(`the corpus must be 1 to ${MAX_IMPORT_ITEMS} texts`);
  }
  corpus.forEach((t, i) => {
    if (typeof t !== "string" || t.trim() === "" || t.length > MAX_TEXT_CHARS) {
      bad(`corpus text ${i + 1} is not a text of 1 to ${MAX_TEXT_CHARS} characters`);
    }
  });
  return corpus as string[];
}

/**
 * The run's settings checked (the worker gets them from the page, and a message is untrusted):
 * each mistake a specific error. The cases' own fields are checked where they are read.
 */
export function checkBatchSpec(x: unknown, nLayer: number): BatchRunSpec {
  if (!isObj(x)) return bad("no settings");
  if (typeof x.method !== "string") bad("no editing method");
  for (const k of ["sequential", "fluency", "cacheStats"] as const) {
    if (typeof x[k] !== "boolean") bad(`${k} must be true or false`);
  }
  const batchErr = paramError(EDIT_RUN_PARAMS.batch, x.batch);
  if (batchErr) bad(batchErr);
  const textsErr = paramError(EDIT_RUN_PARAMS.texts, x.texts);
  if (textsErr) bad(textsErr);
  if (!(COV_SOURCES as readonly unknown[]).includes(x.cov)) {
    bad(`C's corpus must be one of ${COV_SOURCES.join(", ")}`);
  }
  if (x.steps !== undefined && !inRange(EDIT_PARAMS.romeSteps, x.steps)) {
    bad(String(paramError(EDIT_PARAMS.romeSteps, x.steps)));
  }
  if (x.layers !== undefined) {
    const ls = x.layers;
    const ok =
      Array.isArray(ls) &&
      ls.length > 0 &&
      ls.every((l, i) => Number.isInteger(l) && l >= 0 && l < nLayer && (i === 0 || l > ls[i - 1]));
    if (!ok) bad(`the layers must be ascending, distinct, from 0 to ${nLayer - 1}`);
  }
  if (x.hparams !== undefined && !isObj(x.hparams)) bad("hparams must be an object");
  if (x.corpus !== undefined) checkCorpus(x.corpus);
  const c = x.cases;
  if (!isObj(c) || (c.suite !== "counterfact" && c.suite !== "zsre")) {
    return bad("the cases must be counterfact or zsre");
  }
  if (c.from === "model") {
    if (!Number.isInteger(c.start) || !Number.isInteger(c.count) || (c.count as number) < 1) {
      bad("the dataset's cases need a whole start and a count ≥ 1");
    }
  } else if (c.from !== "given" || !Array.isArray(c[c.suite])) {
    bad("no cases");
  }
  return x as unknown as BatchRunSpec;
}
