/**
 * Measures one ROME edit (docs/methods.md §5, lib/edit/metrics.ts), the same for the app's Measure
 * (workers/edit-lane.ts) and `causeway edit --eval` (lib/cli/edit.ts): CounterFact
 * efficacy, paraphrase and neighbourhood scores of the original and the edited model on the
 * edit's case, and the mean next-token loss on the model's general text (edited / original).
 *
 * The case: the edit's own CounterFact case (params.case_id), or one with the same subject and
 * prompt in dataset.json, or else one made from the edit itself: its prompt, its new target,
 * the original model's top-1 as the true object, and the paraphrase and neighbourhood prompts
 * of the dataset's case of the same subject and relation when there is one.
 */
import type { Engine } from "../engine";
import { CancelledError } from "../interp/cancel";
import type { EditEvalResult, EvalPhase } from "../protocol";
import { topIds } from "../queries";
import { applyEdits, type EditedModel } from "./apply";
import type { CounterFactCase, EditDataset } from "./dataset";
import { findCase } from "./dataset";
import { abscAccuracy, LOREFT_DEFAULTS, loreftExamples } from "./loreft";
import {
  aggregateScores,
  type CaseScores,
  caseScores,
  generalTextLoss,
  type RewriteCase,
  rewriteCase,
} from "./metrics";
import { alphaCurve, runEval } from "./steer";
import { describeEdit, type Edit, isEnabled, type RomeEdit } from "./types";

/** General texts scored for the loss ratio (the first ones; enough for a stable mean). */
export const EVAL_TEXTS = 100;

export interface EvalOptions {
  dataset?: EditDataset;
  onProgress?: (phase: EvalPhase, done: number, total: number) => void;
  /** Checked between measurements: true stops with CancelledError. */
  cancelled?: () => boolean;
}

export interface RomeEvalCase {
  c: RewriteCase;
  /** The dataset's CounterFact case, or one made from the edit's own prompt. */
  source: "counterfact" | "edit";
  note: string | null;
}

/** The one CounterFact case a ROME edit is scored on, and where it came from. */
export async function romeEvalCase(
  engine: Engine,
  edit: RomeEdit,
  dataset: EditDataset | undefined,
): Promise<RomeEvalCase> {
  const p = edit.params;
  const cases = dataset?.counterfact ?? [];
  if (p.case_id !== undefined && cases.length > 0) {
    return { c: rewriteCase(findCase(dataset, p.case_id)), source: "counterfact", note: null };
  }
  const same = cases.find(
    (x) => x.requested_rewrite.subject === p.subject && x.requested_rewrite.prompt === p.prompt,
  );
  if (same && same.requested_rewrite.target_new.str.trim() === p.target_new.trim()) {
    return { c: rewriteCase(same), source: "counterfact", note: null };
  }
  const prompt = p.prompt.replace("{}", p.subject);
  let targetTrue = p.target_true;
  if (targetTrue === undefined) {
    const [top] = await topIds(engine, engine.tokenize(prompt).ids, 1);
    targetTrue = engine.tokenText(top).trim();
  }
  const related = relatedCase(cases, dataset, p.subject, prompt) ?? same;
  const notes: string[] = [];
  if (targetTrue === p.target_new.trim()) {
    notes.push("the original model already answers the new target");
  }
  if (!related && !p.paraphrase_prompts && !p.neighborhood_prompts) {
    notes.push("no CounterFact case of this subject: efficacy only");
  }
  return {
    c: {
      prompt,
      target_new: p.target_new.trim(),
      target_true: targetTrue,
      paraphrase_prompts: p.paraphrase_prompts ?? related?.paraphrase_prompts ?? [],
      neighborhood_prompts: p.neighborhood_prompts ?? related?.neighborhood_prompts ?? [],
    },
    source: "edit",
    note: notes.length > 0 ? notes.join("; ") : null,
  };
}

/** The dataset's case of this subject and of the prompt's relation (from the known facts). */
function relatedCase(
  cases: CounterFactCase[],
  dataset: EditDataset | undefined,
  subject: string,
  prompt: string,
): CounterFactCase | undefined {
  const relation = dataset?.known_facts?.find((f) => f.prompt === prompt)?.relation_id;
  return cases.find(
    (x) =>
      x.requested_rewrite.subject === subject &&
      (relation === undefined || x.requested_rewrite.relation_id === relation),
  );
}

export async function evaluateRomeEdit(
  engine: Engine,
  edited: EditedModel,
  edit: RomeEdit,
  index: number,
  opts: EvalOptions = {},
): Promise<EditEvalResult> {
  const texts = (opts.dataset?.general_text ?? []).slice(0, EVAL_TEXTS);
  const total = texts.length > 0 ? 4 : 2;
  let done = 0;
  const step = (phase: EvalPhase) => {
    if (opts.cancelled?.()) throw new CancelledError();
    opts.onProgress?.(phase, done, total);
    done += 1;
  };
  const { c, source, note } = await romeEvalCase(engine, edit, opts.dataset);
  const tok = engine.tokenizer;
  step("original");
  const original = aggregateScores([await caseScores(engine.model, tok, c)]);
  step("edited");
  const after = aggregateScores([await caseScores(edited, tok, c)]);
  let generalText: EditEvalResult["generalText"] = null;
  if (texts.length > 0) {
    step("general text (original)");
    const a = await generalTextLoss(engine.model, tok, texts);
    step("general text (edited)");
    const b = await generalTextLoss(edited, tok, texts);
    generalText = { original: a.nll, edited: b.nll, ratio: b.nll / a.nll, texts: a.texts };
  }
  opts.onProgress?.("done", total, total);
  return {
    index,
    description: describeEdit(edit),
    source,
    original,
    edited: after,
    generalText,
    note,
  };
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);

/**
 * The measures of a whole stack (`causeway edit --eval`): the general-text loss of the original
 * and the edited model, CounterFact scores over the enabled ROME edits (each on the case
 * romeEvalCase picks, as the app's Measure does), LoReFT's ABSC accuracy on the held-out
 * reviews (docs/methods.md §1), and every enabled edit's own eval before and after.
 */
export async function evaluateStack(
  engine: Engine,
  edited: EditedModel,
  edits: readonly Edit[],
  dataset: EditDataset | undefined,
): Promise<Record<string, unknown>> {
  const { model, tokenizer: tok } = engine;
  const on = edits.filter(isEnabled);
  const ev: Record<string, unknown> = {};
  const texts = dataset?.general_text;
  if (texts) {
    const a = await generalTextLoss(model, tok, texts);
    const b = await generalTextLoss(edited, tok, texts);
    ev.general_text = {
      original_nll: a.nll,
      edited_nll: b.nll,
      ratio: ratio(b.nll, a.nll),
      tokens: a.tokens,
    };
  }
  const before: CaseScores[] = [];
  const after: CaseScores[] = [];
  for (const e of on) {
    if (e.kind !== "rome") continue;
    const { c } = await romeEvalCase(engine, e, dataset);
    before.push(await caseScores(model, tok, c));
    after.push(await caseScores(edited, tok, c));
  }
  if (after.length > 0) {
    ev.counterfact = {
      edited: aggregateScores(after),
      original: { ...aggregateScores(before), cases: undefined },
    };
  }
  if (on.some((e) => e.kind === "loreft")) {
    const { test, labels } = loreftExamples(dataset, {
      ...LOREFT_DEFAULTS,
      n_train: 1,
      n_test: dataset?.absc?.test.length ?? 1,
    });
    ev.absc = {
      n_test: test.length,
      original_accuracy: await abscAccuracy(model, tok, test, labels),
      edited_accuracy: await abscAccuracy(edited, tok, test, labels),
    };
  }
  const per: Record<string, unknown>[] = [];
  for (const [i, e] of edits.entries()) {
    if (!e.eval || !isEnabled(e)) continue;
    per.push({
      index: i,
      original: await runEval(model, tok, e.eval, dataset),
      edited: await runEval(edited, tok, e.eval, dataset),
    });
  }
  if (per.length > 0) ev.edits = per;
  return ev;
}

/** The effect of α of every enabled steering edit with an eval, on top of the edits before it. */
export async function stackAlphaCurves(
  engine: Engine,
  edits: readonly Edit[],
  alphas: number[],
  dataset: EditDataset | undefined,
): Promise<{ index: number; curve: Awaited<ReturnType<typeof alphaCurve>> }[]> {
  const curves: { index: number; curve: Awaited<ReturnType<typeof alphaCurve>> }[] = [];
  for (const [i, e] of edits.entries()) {
    if ((e.kind !== "head_steer" && e.kind !== "resid_steer") || !e.eval || !isEnabled(e)) continue;
    const below = applyEdits(engine.model, edits.slice(0, i));
    try {
      curves.push({
        index: i,
        curve: await alphaCurve({
          model: below,
          tok: engine.tokenizer,
          edit: e,
          alphas,
          ev: e.eval,
          dataset,
        }),
      });
    } finally {
      below.dispose();
    }
  }
  return curves;
}
