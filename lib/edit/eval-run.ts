/**
 * Batch and sequential editing, measured as the literature does (docs/edits.md, "Batch and
 * sequential editing"):
 *
 *   independent (default)  the cases are cut into batches of `batch`; each batch is edited on the
 *                          original model, its cases scored on that edited model, and the edit
 *                          dropped (batch 1 is ROME's own CounterFact evaluation)
 *   sequential             the batches are applied one after another, each on the model edited by
 *                          all the batches before it; after each batch every case edited so far
 *                          is scored on the model as it is then: one point of the curve of each
 *                          score against the number of edits so far. Fluency on a curve point is
 *                          over the cases of the batch just edited (generation is the costly
 *                          part); the final scores are every case's on the final model.
 *
 * The general-text loss ratio is the mean next-token NLL over the texts of the edited model over
 * the original's (per batch and then averaged in independent mode; per point in sequential mode).
 * The unedited model's scores on the same cases come along for reference.
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, type ModelLike } from "./apply";
import type { CancelSignal } from "./cancel";
import type { EditDataset } from "./dataset";
import {
  type CaseResult,
  type EvalCase,
  type SuiteScores,
  scoreCases,
  summarise,
} from "./eval-cases";
import { FLUENCY_DEFAULTS, type FluencyOptions } from "./eval-fluency";
import type { BatchEditor } from "./eval-methods";
import { generalTextLoss } from "./metrics";
import { type Edit, EditError } from "./types";

export interface EditRunOptions {
  model: Gpt2Model;
  tok: TextTokenizer;
  dataset?: EditDataset;
  cases: readonly EvalCase[];
  editor: BatchEditor;
  /** Requests per batch (≥ 1). */
  batch: number;
  sequential: boolean;
  /** General texts for the loss ratio (none: no ratio). */
  texts?: readonly string[];
  /** Generation fluency settings; null: not measured. */
  fluency?: FluencyOptions | null;
  /** The unedited model's scores, when already known (e.g. from another method of a compare). */
  unedited?: { scores: SuiteScores; nll: number | null };
  signal?: CancelSignal;
  onProgress?: (p: EditRunProgress) => void;
}

export type EditRunProgress =
  | { phase: "unedited"; done: number; total: number }
  | {
      phase: "edit";
      batch: number;
      batches: number;
      request: number;
      step: number;
      steps: number;
      loss: number;
    }
  | { phase: "score"; batch: number; batches: number; point?: CurvePoint };

/** The scores after `edits` edits (sequential mode). */
export interface CurvePoint extends SuiteScores {
  edits: number;
  general_text_ratio: number | null;
}

export interface EditRunResult {
  method: string;
  batch: number;
  sequential: boolean;
  n_cases: number;
  edited: SuiteScores & { general_text_ratio: number | null };
  unedited: SuiteScores;
  general_text_nll: number | null;
  curve: CurvePoint[];
  cases: CaseResult[];
  edits: Edit[];
}

function scoreAll(
  model: ModelLike,
  o: EditRunOptions,
  cases: readonly EvalCase[],
  fluency: FluencyOptions | null,
  onCase?: (i: number) => void,
): Promise<CaseResult[]> {
  return scoreCases(model, o.tok, cases, fluency, { signal: o.signal, onCase });
}

/**
 * The cases cut into batches of at most `size`, in order, except that a case whose subject is
 * already in the batch being filled waits for the next one: a batch edit refuses two rewrites
 * of one subject (lib/edit/memit-params.ts checkRequests: one key cannot take two values).
 * MEMIT's own evaluation instead drops such cases from its dataset (MultiCounterFact's
 * conflict filter); deferring keeps every case. With no repeated subject this is plain chunking.
 */
export function batchesOf<T extends { request: { subject: string } }>(
  cases: readonly T[],
  size: number,
): T[][] {
  const out: T[][] = [];
  let pending = [...cases];
  while (pending.length > 0) {
    const batch: T[] = [];
    const subjects = new Set<string>();
    const later: T[] = [];
    let i = 0;
    for (; i < pending.length && batch.length < size; i++) {
      const s = pending[i].request.subject.trim();
      if (subjects.has(s)) later.push(pending[i]);
      else {
        batch.push(pending[i]);
        subjects.add(s);
      }
    }
    out.push(batch);
    pending = [...later, ...pending.slice(i)];
  }
  return out;
}

const meanOf = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The unedited model's scores on the cases and its general-text NLL. */
export async function uneditedScores(
  o: EditRunOptions,
): Promise<{ scores: SuiteScores; nll: number | null }> {
  const fluency = o.fluency === undefined ? FLUENCY_DEFAULTS : o.fluency;
  const res = await scoreAll(o.model, o, o.cases, fluency, (i) =>
    o.onProgress?.({ phase: "unedited", done: i, total: o.cases.length }),
  );
  const nll = o.texts?.length ? (await generalTextLoss(o.model, o.tok, o.texts)).nll : null;
  return { scores: summarise(res), nll };
}

export async function runEditEval(o: EditRunOptions): Promise<EditRunResult> {
  if (!(Number.isInteger(o.batch) && o.batch >= 1)) {
    throw new EditError("bad_edit", `the batch size must be an integer ≥ 1, got ${o.batch}`);
  }
  const fluency = o.fluency === undefined ? FLUENCY_DEFAULTS : o.fluency;
  const base = o.unedited ?? (await uneditedScores(o));
  const batches = batchesOf(o.cases, o.batch);
  const ratioOf = async (m: ModelLike) =>
    base.nll !== null && o.texts?.length
      ? (await generalTextLoss(m, o.tok, o.texts)).nll / base.nll
      : null;

  const all: Edit[] = [];
  const results: CaseResult[] = [];
  const ratios: number[] = [];
  const curve: CurvePoint[] = [];
  for (const [b, cases] of batches.entries()) {
    const before = o.sequential ? all : [];
    const edits = await o.editor
      .edit({
        base: o.model,
        before,
        tok: o.tok,
        requests: cases.map((c) => c.request),
        dataset: o.dataset,
        signal: o.signal,
        onStep: (request, s) =>
          o.onProgress?.({ phase: "edit", batch: b, batches: batches.length, request, ...s }),
      })
      .catch((e: unknown) => {
        // name the cases: the editor knows only the batch's request indices
        if (!(e instanceof EditError) || e.code !== "bad_edit") throw e;
        const ids = cases.map((c) => c.request.case_id).join(", ");
        throw new EditError(
          "bad_edit",
          `${o.editor.name}, batch ${b + 1} (cases ${ids}): ${e.message}`,
        );
      });
    all.push(...edits);
    const edited = applyEdits(o.model, o.sequential ? all : edits);
    try {
      if (!o.sequential) {
        results.push(...(await scoreAll(edited, o, cases, fluency)));
        const r = await ratioOf(edited);
        if (r !== null) ratios.push(r);
        o.onProgress?.({ phase: "score", batch: b, batches: batches.length });
        continue;
      }
      const last = b === batches.length - 1;
      const earlier = await scoreAll(edited, o, batches.slice(0, b).flat(), last ? fluency : null);
      const now = await scoreAll(edited, o, cases, fluency);
      const nowFluency = summarise(now).fluency;
      const point: CurvePoint = {
        edits: earlier.length + now.length,
        ...summarise([...earlier, ...now]),
        fluency: nowFluency,
        general_text_ratio: await ratioOf(edited),
      };
      curve.push(point);
      o.onProgress?.({ phase: "score", batch: b, batches: batches.length, point });
      if (last) {
        results.push(...earlier, ...now);
        if (point.general_text_ratio !== null) ratios.push(point.general_text_ratio);
      }
    } finally {
      edited.dispose();
    }
  }
  return {
    method: o.editor.name,
    batch: o.batch,
    sequential: o.sequential,
    n_cases: o.cases.length,
    edited: { ...summarise(results), general_text_ratio: meanOf(ratios) },
    unedited: base.scores,
    general_text_nll: base.nll,
    curve,
    cases: results,
    edits: all,
  };
}
