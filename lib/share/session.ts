/**
 * A shared session as plain data: everything a link (or a session file) carries to recompute and
 * show what its author saw. lib/share/fields.ts maps each field to its key in the link.
 */
import type { Edit } from "../edit/types";
import { type Strategy, TRACE_DEFAULTS, type TraceKind } from "../interp/spec";
import { DEFAULT_GENERATION } from "../params/table";
import type { GenerateSettings, ModelSource } from "../protocol";
import type { HeadsView } from "../store/heads-slice";
import type { SharedReadouts } from "./lens-codec";
import type { SharedPatching } from "./patching-codec";

/** The bundled model: the default, left out of a link. */
export const DEFAULT_SOURCE: ModelSource = { kind: "bundled", name: "tiny-facts" };

/** One carried heatmap: T × L values (rounded to f16 in the link), NaN for cells not computed. */
export interface CarriedGrid {
  kind: TraceKind;
  rows: number;
  cols: number;
  values: number[];
}

/** The trace on screen when the link was made, so its heatmaps show before the recompute. */
export interface CarriedTrace {
  tokens: string[];
  /** [b, e), end-exclusive. */
  subject: [number, number];
  /** The answer scored (its text). */
  answer: string;
  low: number;
  high: number;
  window: number;
  grids: CarriedGrid[];
}

export interface SharedSession {
  model: ModelSource;
  prompt: string;
  /** The subject as typed or picked. */
  subject: string;
  /** The picked token range, when the subject was picked on the token strip. */
  subjectRange: [number, number] | null;
  target: string;
  corruption: "noise" | "prompt";
  noise: number;
  samples: number;
  seed: number;
  counterfactual: string;
  /** null: the model's default window. */
  window: number | null;
  kinds: TraceKind[];
  strategy: Strategy;
  patch: { clean: string; corrupt: string; target: string; foil: string };
  /** The head selected on the patching grid (its attention pattern is shown). */
  selectedHead: { layer: number; head: number } | null;
  /** The generation panel's decoding: greedy, or sampled with its seed. */
  generation: GenerateSettings;
  /** The edit stack, in order (learned parameters quantised, see docs/sharing.md). */
  edits: Edit[];
  trace: CarriedTrace | null;
  /** The all-heads view (pins, sort) when its results were on screen; recomputed on open. */
  heads: HeadsView | null;
  /** The read-out views (lens, DLA, attribution) whose results were on screen; recomputed. */
  readouts: SharedReadouts | null;
  /** The by-position and path-patching views whose results were on screen; recomputed. */
  patching: SharedPatching | null;
  /** The results tab on screen (components/views/registry.tsx). */
  view: string;
}

export const DEFAULT_SESSION: SharedSession = {
  model: DEFAULT_SOURCE,
  prompt: "",
  subject: "",
  subjectRange: null,
  target: "",
  corruption: "noise",
  noise: TRACE_DEFAULTS.noise,
  samples: TRACE_DEFAULTS.samples,
  seed: TRACE_DEFAULTS.seed,
  counterfactual: "",
  window: null,
  kinds: ["hidden", "mlp", "attn"],
  strategy: "fast",
  patch: { clean: "", corrupt: "", target: "", foil: "" },
  selectedHead: null,
  generation: DEFAULT_GENERATION,
  edits: [],
  trace: null,
  heads: null,
  readouts: null,
  patching: null,
  view: "trace",
};
