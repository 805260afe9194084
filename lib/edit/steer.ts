/**
 * Representation steering (issue 4, §4a): add a vector to a hidden state, blocks.{l}.hook_X with
 * X = resid_post (the block's output, default), resid_mid or resid_pre, at the last position
 * (default), at every position, or at given positions:
 *
 *   h ← h + α·b (scale "raw", the default: ActAdd-style steering vector)
 *   h ← h + α·σ·θ (scale "iti")
 *
 * b is given (params.vector) or the mass-mean shift of last-token states between two prompt
 * sets, θ = b/‖b‖ and σ the std of ⟨h, θ⟩ over both sets (σ = 1 for a given vector).
 *
 * alphaCurve measures the effect of α (log P(target) − log P(foil) on evaluation prompts) for
 * a list of α, the same edit otherwise, on top of the rest of the stack.
 */
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, baseOf, isEdited, type ModelLike } from "./apply";
import { activationsAt } from "./batch";
import { type EditDataset, resolvePromptSet } from "./dataset";
import { massMeanDirection } from "./heads";
import { continuationScores } from "./metrics";
import { residHook } from "./plan";
import { type Edit, EditError, type EditEval, type ResidSteerEdit } from "./types";

export async function learnResidSteer(
  model: ModelLike,
  tok: TextTokenizer,
  edit: ResidSteerEdit,
  opts: { dataset?: EditDataset } = {},
): Promise<ResidSteerEdit> {
  const { vector, positive, negative } = edit.params;
  if (vector) {
    let n = 0;
    for (const x of vector) n += x * x;
    n = Math.sqrt(n);
    if (!(n > 0)) throw new EditError("bad_edit", "params.vector is zero");
    return { ...edit, learned: { direction: vector.map((x) => x / n), norm: n, sigma: 1 } };
  }
  if (!positive || !negative) {
    throw new EditError(
      "bad_edit",
      "resid_steer needs params.vector or params.positive and params.negative",
    );
  }
  const pos = resolvePromptSet(positive, opts.dataset);
  const neg = resolvePromptSet(negative, opts.dataset);
  const hook = residHook(edit.site.layer, edit.site.hook);
  const rows = [...pos, ...neg].map((p) => tok.encode(p));
  const nCtx = baseOf(model).config.nCtx;
  if (rows.some((r) => r.length === 0 || r.length > nCtx)) {
    throw new EditError("bad_edit", "a steering prompt is empty or longer than the context");
  }
  const acts = (
    await activationsAt(
      model,
      rows,
      [hook],
      rows.map((r) => [r.length - 1]),
    )
  ).get(hook)!;
  return { ...edit, learned: massMeanDirection(acts.slice(0, pos.length), acts.slice(pos.length)) };
}

export interface EvalResult {
  n: number;
  /** Mean of log P(target) − log P(foil) (length-normalised). */
  mean_logprob_diff: number;
  /** Share of prompts with P(target) > P(foil). */
  accuracy: number;
}

/** Scores an edit's evaluation spec on a model. */
export async function runEval(
  model: ModelLike,
  tok: TextTokenizer,
  ev: EditEval,
  dataset?: EditDataset,
): Promise<EvalResult> {
  const prompts = resolvePromptSet(ev.prompts, dataset);
  const s = await continuationScores(model, tok, prompts, [ev.target, ev.foil]);
  const diffs = s.map(([t, f]) => t - f);
  return {
    n: prompts.length,
    mean_logprob_diff: diffs.reduce((a, b) => a + b, 0) / diffs.length,
    accuracy: diffs.filter((d) => d > 0).length / diffs.length,
  };
}

/** What alphaCurve scores: `edit` at each of `alphas` on top of `model`, measured by `ev`. */
export interface AlphaCurveOptions {
  /** A plain model or an edited one, whose stack is kept under `edit`. */
  model: ModelLike;
  tok: TextTokenizer;
  edit: Edit & { kind: "head_steer" | "resid_steer" };
  alphas: readonly number[];
  ev: EditEval;
  dataset?: EditDataset;
}

/**
 * The effect of α: for each α, `edit` with that α is added on top of `model` (a plain model or
 * an edited one, whose stack is kept) and `ev` is scored.
 */
export async function alphaCurve({
  model,
  tok,
  edit,
  alphas,
  ev,
  dataset,
}: AlphaCurveOptions): Promise<(EvalResult & { alpha: number })[]> {
  const base = baseOf(model);
  const stack = isEdited(model) ? model.plan.edits : [];
  const out: (EvalResult & { alpha: number })[] = [];
  for (const alpha of alphas) {
    const e = { ...edit, enabled: true, params: { ...edit.params, alpha } } as Edit;
    const edited = applyEdits(base, [...stack, e]);
    try {
      out.push({ alpha, ...(await runEval(edited, tok, ev, dataset)) });
    } finally {
      edited.dispose();
    }
  }
  return out;
}
