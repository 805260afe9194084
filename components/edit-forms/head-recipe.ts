/**
 * The head form's checks and recipes (ablate zero/mean, scale, steer, the consistency recipe),
 * apart from React. Steering prompt sets come from the model's dataset.json: absc positive vs
 * negative reviews. The semantic-consistency recipe (paraphrase pairs labelled by the model's
 * own answers) runs in the worker and its edit comes from that run (./ConsistencyRecipe.tsx).
 */
import type { Edit, PositionRule, PromptSet, SteerScale } from "../../lib/edit/types";

export const PROMPT_PAIRS: Record<
  string,
  { label: string; positive: PromptSet; negative: PromptSet }
> = {
  absc: {
    label: "absc: positive vs negative reviews",
    positive: { dataset: "absc", label: " positive", limit: 100 },
    negative: { dataset: "absc", label: " negative", limit: 100 },
  },
  // Kept for representation steering's form: it contrasts question with statement prompts, so
  // it finds the prompt format, not consistency (the head form uses the consistency recipe).
  consistency: {
    label: "questions vs statements (prompt format)",
    positive: { dataset: "consistency", limit: 100 },
    negative: { dataset: "known_facts", limit: 100 },
  },
};

export type HeadMode = "ablate_zero" | "ablate_mean" | "scale" | "steer" | "consistency";

/** The prompt pairs the head form offers for steering (not the format contrast). */
export const HEAD_PAIRS = ["absc"] as const satisfies (keyof typeof PROMPT_PAIRS)[];

export interface HeadDraft {
  mode: HeadMode;
  layer: number | null;
  head: number | null;
  position: "last" | "all";
  scale: number | null;
  alpha: number | null;
  steerScale: SteerScale;
  pair: keyof typeof PROMPT_PAIRS;
  /** Steer: the selected head, or the top K heads by probe accuracy. */
  which: "selected" | "top_k";
  topK: number | null;
}

const whole = (x: number | null, lo: number, hi: number) =>
  x !== null && Number.isInteger(x) && x >= lo && x <= hi;

/** The message when a recipe needs prompt sets from a dataset.json the model does not have. */
export const NEEDS_DATASET =
  "needs prompt sets from the model's dataset.json, which this model does not have (models from the hub or local files carry none)";

/** Head modes that need no dataset: zero ablation and scaling. */
export const headModeNeedsDataset = (m: HeadMode): boolean =>
  m === "ablate_mean" || m === "steer" || m === "consistency";

export function headRecipe(
  d: HeadDraft,
  dims: { nLayer: number; nHead: number } | null,
  /** False when the model has no dataset.json (./model-dataset.ts). */
  hasDataset = true,
): { edit: Edit } | { error: string } {
  if (!hasDataset && headModeNeedsDataset(d.mode)) {
    const what =
      d.mode === "steer"
        ? "Steering"
        : d.mode === "consistency"
          ? "The consistency recipe"
          : "Mean ablation";
    return { error: `${what} ${NEEDS_DATASET}: use zero ablation or scaling.` };
  }
  const L = dims?.nLayer ?? 1e9;
  const H = dims?.nHead ?? 1e9;
  if (d.mode === "consistency") {
    return { error: "Run the consistency recipe first; Apply then adds the edit it found." };
  }
  const needHead = !(d.mode === "steer" && d.which === "top_k");
  if (needHead && !whole(d.layer, 0, L - 1)) {
    return { error: `The layer must be a whole number from 0 to ${L - 1}.` };
  }
  if (needHead && !whole(d.head, 0, H - 1)) {
    return { error: `The head must be a whole number from 0 to ${H - 1}.` };
  }
  const position: PositionRule = d.position;
  const site = { layer: d.layer ?? 0, head: d.head ?? 0, position };
  const pair = PROMPT_PAIRS[d.pair];
  switch (d.mode) {
    case "ablate_zero":
      return { edit: { kind: "head_ablate", site, params: { mode: "zero" } } };
    case "ablate_mean":
      return {
        edit: {
          kind: "head_ablate",
          site,
          params: { mode: "mean", prompts: { dataset: "general_text", limit: 100 } },
        },
      };
    case "scale":
      if (d.scale === null || !Number.isFinite(d.scale)) {
        return { error: "The scale must be a number (0 silences the head, 2 doubles it)." };
      }
      return { edit: { kind: "head_scale", site, params: { scale: d.scale } } };
    case "steer": {
      if (d.alpha === null || !Number.isFinite(d.alpha)) return { error: "α must be a number." };
      if (d.which === "top_k" && !whole(d.topK, 1, L * H)) {
        return { error: `K must be a whole number from 1 to ${L * H}.` };
      }
      return {
        edit: {
          kind: "head_steer",
          site:
            d.which === "top_k"
              ? { top_k: d.topK ?? 1, position }
              : { heads: [{ layer: site.layer, head: site.head }], position },
          params: {
            alpha: d.alpha,
            scale: d.steerScale,
            positive: pair.positive,
            negative: pair.negative,
          },
        },
      };
    }
  }
}

/** A representation (residual) steering edit from two prompt sets. */
export interface ResidDraft {
  layer: number | null;
  position: "last" | "all" | "cell";
  cell: number | null;
  alpha: number | null;
  steerScale: SteerScale;
  pair: keyof typeof PROMPT_PAIRS;
}

export function residRecipe(
  d: ResidDraft,
  nLayer: number | null,
  /** False when the model has no dataset.json (./model-dataset.ts). */
  hasDataset = true,
): { edit: Edit } | { error: string } {
  if (!hasDataset) return { error: `Representation steering ${NEEDS_DATASET}.` };
  const L = nLayer ?? 1e9;
  if (!whole(d.layer, 0, L - 1))
    return { error: `The layer must be a whole number from 0 to ${L - 1}.` };
  if (d.alpha === null || !Number.isFinite(d.alpha)) return { error: "α must be a number." };
  if (d.position === "cell" && !whole(d.cell, 0, 1e6)) {
    return { error: "Click a cell of the hidden-state map to pick the position." };
  }
  const pair = PROMPT_PAIRS[d.pair];
  return {
    edit: {
      kind: "resid_steer",
      site: {
        layer: d.layer ?? 0,
        position: d.position === "cell" ? [d.cell ?? 0] : d.position,
      },
      params: {
        alpha: d.alpha,
        scale: d.steerScale,
        positive: pair.positive,
        negative: pair.negative,
      },
    },
  };
}
