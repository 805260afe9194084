/**
 * Attention-head edits (docs/methods.md §2), all at blocks.{l}.attn.hook_z (the head's output before
 * the output projection, [B, T, H, E]):
 *
 *   head_ablate zero   z_h ← 0
 *   head_ablate mean   z_h ← its mean over a prompt set, at the positions of the edit's rule
 *   head_scale         z_h ← s · z_h
 *   head_steer         z_h ← z_h + α·σ·θ_h (ITI) or z_h + α·b_h (raw, the semantic-consistency
 *                      method's unnormalised shift), at the last position (default) or all
 *
 * Steering directions are mass-mean shifts of last-token outputs between two prompt sets:
 * b_h = mean(positive) − mean(negative), θ_h = b_h / ‖b_h‖, σ_h = std of ⟨a, θ_h⟩ over both sets
 * (ITI's get_com_directions and proj_val_std). With top_k, a logistic-regression probe per head
 * (lib/edit/probe.ts) predicts the set from that head's last-token output; heads are ranked by
 * validation accuracy (ties: training accuracy, then lower layer and head) and the top K steered.
 * The probe accuracy grid [L][H] is returned with the edit.
 *
 * The positions used to collect activations: the last token of each prompt for directions and
 * probes; for mean ablation, the positions of the edit's own rule (every token for "all").
 */

import { blockHook } from "../model/hooks";
import type { TextTokenizer } from "../util/tokenizer";
import { baseOf, type ModelLike } from "./apply";
import { activationsAt } from "./batch";
import { type EditDataset, resolvePromptSet } from "./dataset";
import { editDims } from "./family-sites";
import { meanOf, norm } from "./linalg";
import { probe, rankHeads, splitIndices } from "./probe";
import {
  type Direction,
  EditError,
  type HeadAblateEdit,
  type HeadRef,
  type HeadSteerEdit,
  type PositionRule,
} from "./types";

export interface HeadLearnOptions {
  dataset?: EditDataset;
}

export function encodeAll(model: ModelLike, tok: TextTokenizer, prompts: string[]): number[][] {
  const nCtx = baseOf(model).config.nCtx;
  return prompts.map((p) => {
    const ids = tok.encode(p);
    if (ids.length === 0) throw new EditError("bad_edit", "a prompt of the set is empty");
    if (ids.length > nCtx) {
      throw new EditError(
        "bad_edit",
        `prompt ${JSON.stringify(p)} has ${ids.length} tokens, more than the context`,
      );
    }
    return ids;
  });
}

export function rulePositions(rule: PositionRule, length: number): number[] {
  if (rule === "last") return [length - 1];
  if (rule === "all") return Array.from({ length }, (_, i) => i);
  return rule.filter((p) => p < length);
}

/** A direction from two sets of vectors: mass-mean shift, its unit vector and σ of projections. */
export function massMeanDirection(pos: ArrayLike<number>[], neg: ArrayLike<number>[]): Direction {
  const mp = meanOf(pos);
  const mn = meanOf(neg);
  const b = mp.map((x, i) => x - mn[i]);
  const n = norm(b);
  const theta = n > 0 ? b.map((x) => x / n) : b;
  const proj = [...pos, ...neg].map((a) => {
    let s = 0;
    for (let i = 0; i < theta.length; i++) s += a[i] * theta[i];
    return s;
  });
  const m = proj.reduce((x, y) => x + y, 0) / proj.length;
  const sigma = Math.sqrt(proj.reduce((x, y) => x + (y - m) ** 2, 0) / proj.length);
  return { direction: Array.from(theta), norm: n, sigma };
}

/** Last-token hook_z of every layer: result[l][row] is [H·E]. */
export async function lastTokenHeadOutputs(
  model: ModelLike,
  tok: TextTokenizer,
  prompts: string[],
): Promise<Float32Array[][]> {
  const L = baseOf(model).config.nLayer;
  const rows = encodeAll(model, tok, prompts);
  const hooks = Array.from({ length: L }, (_, l) => blockHook(l, "attn.hook_z"));
  const acts = await activationsAt(
    model,
    rows,
    hooks,
    rows.map((r) => [r.length - 1]),
  );
  return hooks.map((h) => acts.get(h)!);
}

const headSlice = (a: Float32Array, h: number, E: number) => a.subarray(h * E, (h + 1) * E);

/** Learns a mean ablation's mean (zero ablation needs nothing). */
export async function learnHeadAblate(
  model: ModelLike,
  tok: TextTokenizer,
  edit: HeadAblateEdit,
  opts: HeadLearnOptions = {},
): Promise<HeadAblateEdit> {
  if (edit.params.mode === "zero") return { ...edit, learned: undefined };
  if (!edit.params.prompts) throw new EditError("bad_edit", "mean ablation needs params.prompts");
  const { nHead, headDim: E } = editDims(baseOf(model).config);
  const HE = nHead * E; // one position of hook_z [H, E]
  const rows = encodeAll(model, tok, resolvePromptSet(edit.params.prompts, opts.dataset));
  const rule = edit.site.position ?? "all";
  const positions = rows.map((r) => rulePositions(rule, r.length));
  const hook = blockHook(edit.site.layer, "attn.hook_z");
  const acts = (await activationsAt(model, rows, [hook], positions)).get(hook)!;
  const vecs: Float32Array[] = [];
  acts.forEach((a, r) => {
    for (let j = 0; j < positions[r].length; j++) {
      vecs.push(headSlice(a.subarray(j * HE, (j + 1) * HE), edit.site.head, E));
    }
  });
  if (vecs.length === 0)
    throw new EditError("bad_edit", "no positions of the prompt set match the rule");
  return { ...edit, learned: { mean: Array.from(meanOf(vecs)) } };
}

export interface HeadProbeResult {
  /** Validation accuracy [L][H]. */
  accuracy: number[][];
  train_accuracy: number[][];
  /** Mass-mean directions [L][H]. */
  directions: Direction[][];
  /** Heads by decreasing validation accuracy. */
  ranking: (HeadRef & { accuracy: number })[];
  n_positive: number;
  n_negative: number;
}

/** Probes and directions for every head from two prompt sets' last-token outputs. */
export async function probeHeads(
  model: ModelLike,
  tok: TextTokenizer,
  positive: string[],
  negative: string[],
  opts: { seed?: number; val_ratio?: number } = {},
): Promise<HeadProbeResult> {
  const { nLayer, nHead, headDim: E } = editDims(baseOf(model).config);
  const acts = await lastTokenHeadOutputs(model, tok, [...positive, ...negative]);
  const y = [...positive.map(() => 1), ...negative.map(() => 0)];
  const split = splitIndices(y.length, opts.val_ratio ?? 0.2, opts.seed ?? 0);
  const accuracy: number[][] = [];
  const trainAcc: number[][] = [];
  const directions: Direction[][] = [];
  for (let l = 0; l < nLayer; l++) {
    accuracy.push([]);
    trainAcc.push([]);
    directions.push([]);
    for (let h = 0; h < nHead; h++) {
      const X = acts[l].map((a) => headSlice(a, h, E));
      const s = probe(X, y, split);
      accuracy[l].push(s.val_accuracy);
      trainAcc[l].push(s.train_accuracy);
      directions[l].push(massMeanDirection(X.slice(0, positive.length), X.slice(positive.length)));
    }
  }
  return {
    accuracy,
    train_accuracy: trainAcc,
    directions,
    ranking: rankHeads(accuracy, trainAcc),
    n_positive: positive.length,
    n_negative: negative.length,
  };
}

/** Learns a steering edit: directions for its heads, or the top-K heads by probe accuracy. */
export async function learnHeadSteer(
  model: ModelLike,
  tok: TextTokenizer,
  edit: HeadSteerEdit,
  opts: HeadLearnOptions = {},
): Promise<HeadSteerEdit & { learned: NonNullable<HeadSteerEdit["learned"]> }> {
  const { nLayer, nHead } = baseOf(model).config;
  const pos = resolvePromptSet(edit.params.positive, opts.dataset);
  const neg = resolvePromptSet(edit.params.negative, opts.dataset);
  const { heads, top_k } = edit.site;
  if ((heads === undefined) === (top_k === undefined)) {
    throw new EditError("bad_edit", "head_steer needs exactly one of site.heads and site.top_k");
  }
  if (top_k !== undefined && (!Number.isInteger(top_k) || top_k < 1 || top_k > nLayer * nHead)) {
    throw new EditError("bad_edit", `top_k must be 1 to ${nLayer * nHead}`);
  }
  const r = await probeHeads(model, tok, pos, neg, {
    seed: edit.params.seed,
    val_ratio: edit.params.val_ratio,
  });
  const chosen: HeadRef[] =
    heads ?? r.ranking.slice(0, top_k).map(({ layer, head }) => ({ layer, head }));
  for (const h of chosen) {
    if (!(h.layer >= 0 && h.layer < nLayer && h.head >= 0 && h.head < nHead)) {
      throw new EditError("bad_edit", `head L${h.layer}H${h.head} does not exist`);
    }
  }
  return {
    ...edit,
    learned: {
      heads: chosen.map((h) => ({
        layer: h.layer,
        head: h.head,
        ...r.directions[h.layer][h.head],
        accuracy: r.accuracy[h.layer][h.head],
      })),
      probe_accuracy: r.accuracy,
    },
  };
}
