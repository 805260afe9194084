/**
 * Turning recipes into complete edits: each edit's learned values are computed on the model as
 * edited by the edits before it in the stack (so a ROME edit computed after a steering edit
 * sees the steered model). Edits that already carry learned values are kept as they are.
 *
 * Intervention edits at the "last" position act at each prompt's own last token, also in the
 * padded batches that learning runs (lib/edit/apply.ts view(lengths)).
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, baseOf, type ModelLike } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import type { EditDataset } from "./dataset";
import { checkFiniteOutputs } from "./finite";
import { learnHeadAblate, learnHeadSteer } from "./heads";
import { learnLora } from "./lora";
import { learnLoreft } from "./loreft";
import { learnBatch } from "./memit";
import { checkStackSize } from "./parse";
import { checkEdit } from "./plan";
import { computeRome, type PreparePhase, type RomeStep } from "./rome";
import { learnResidSteer } from "./steer";
import { learnSwea } from "./swea";
import { describeEdit, type Edit, isEnabled, isLearned } from "./types";

export interface LearnOptions {
  dataset?: EditDataset;
  /** ROME's optimisation steps, with the index of the edit in the stack. */
  onRomeStep?: (index: number, s: RomeStep) => void;
  /** ROME before its first step: C's texts and the context templates' tokens, done of total. */
  onRomePrepare?: (index: number, what: PreparePhase, done: number, total: number) => void;
  /**
   * Each optimisation step of a trained edit (LoReFT, LoRA), with the index of the edit in the
   * stack: step of total (step 0 = before any update) and the training loss.
   */
  onTrainStep?: (index: number, s: { step: number; total: number; loss: number }) => void;
  /** Called when an edit starts and ends learning. */
  onEdit?: (index: number, phase: "start" | "done", edit: Edit) => void;
  /**
   * Checked before every edit and every optimisation step (ROME, LoRA, LoReFT): once set,
   * learning throws EditError "cancelled" with every tensor it made freed (./cancel.ts).
   */
  signal?: CancelSignal;
}

/** Learns one edit on a model (plain or edited). */
export async function learnEdit(
  model: ModelLike,
  tok: TextTokenizer,
  edit: Edit,
  opts: LearnOptions & { index?: number } = {},
): Promise<Edit> {
  checkEdit(edit, baseOf(model).config);
  switch (edit.kind) {
    case "rome": {
      const r = await computeRome(model, tok, edit, {
        dataset: opts.dataset,
        signal: opts.signal,
        onStep: (s) => opts.onRomeStep?.(opts.index ?? 0, s),
        onPrepare: (what, done, total) => opts.onRomePrepare?.(opts.index ?? 0, what, done, total),
      });
      return r.edit;
    }
    case "head_ablate":
      return learnHeadAblate(model, tok, edit, opts);
    case "head_scale":
      return edit;
    case "head_steer":
      return learnHeadSteer(model, tok, edit, opts);
    case "resid_steer":
      return learnResidSteer(model, tok, edit, opts);
    case "lora":
      return learnLora(model, tok, edit, {
        dataset: opts.dataset,
        signal: opts.signal,
        onStep: (s) => opts.onTrainStep?.(opts.index ?? 0, s),
      });
    case "loreft":
      return learnLoreft(model, tok, edit, {
        dataset: opts.dataset,
        signal: opts.signal,
        onStep: (s) => opts.onTrainStep?.(opts.index ?? 0, s),
      });
    case "swea":
      return learnSwea(model, tok, edit, {
        signal: opts.signal,
        onProgress: (p) =>
          opts.onTrainStep?.(opts.index ?? 0, { step: p.step, total: p.steps, loss: p.loss }),
      });
    case "memit":
    case "alphaedit":
    case "pmet":
      return learnBatch(model, tok, edit, {
        dataset: opts.dataset,
        signal: opts.signal,
        onProgress: (p) => {
          if (p.phase === "target")
            opts.onTrainStep?.(opts.index ?? 0, { step: p.step, total: p.steps, loss: p.loss });
        },
      });
  }
}

/**
 * Learns every enabled edit that lacks learned values, in stack order, each on the model with
 * the edits before it applied. Returns the complete stack (disabled edits unchanged) once one
 * short pass has shown that the edited model's outputs are finite (./finite.ts).
 */
export async function learnStack(
  model: Gpt2Model,
  tok: TextTokenizer,
  edits: readonly Edit[],
  opts: LearnOptions = {},
): Promise<{ edits: Edit[]; learned: number[] }> {
  checkStackSize(edits.length);
  const out: Edit[] = [];
  const learned: number[] = [];
  for (const [i, e] of edits.entries()) {
    checkEdit(e, model.config, `edit ${i} (${describeEdit(e)})`);
    if (!isEnabled(e) || isLearned(e)) {
      out.push(e);
      continue;
    }
    await checkLearningCancelled(opts.signal);
    opts.onEdit?.(i, "start", e);
    const before = applyEdits(model, out);
    try {
      const done = await learnEdit(before.isIdentity ? model : before, tok, e, {
        ...opts,
        index: i,
      });
      out.push(done);
      learned.push(i);
      opts.onEdit?.(i, "done", done);
    } finally {
      before.dispose();
    }
  }
  await checkFiniteOutputs(model, out);
  return { edits: out, learned };
}
