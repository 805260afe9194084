/**
 * The LoReFT edit form's draft (components/edit-forms/LoreftForm.tsx) turned into a loreft
 * recipe (lib/edit/loreft.ts), or the first problem with it, in words for the form; and the
 * trainable parameter count the form shows before training.
 */
import { defaultLoreftLayers, loreftParamCount } from "../../lib/edit/loreft-site";
import type { LoreftEdit, LoreftPosition } from "../../lib/edit/types";
import { paramError } from "../../lib/params/schema";
import { EDIT_PARAMS } from "../../lib/params/table";

export interface LoreftDraft {
  /** "2" or "2, 3"; empty: the default (the paper's middle layers scaled to depth). */
  layers: string;
  /** "aspect", "last", or "clicked" (the clicked token's absolute position). */
  position: "aspect" | "last" | "clicked";
  clicked: number | null;
  rank: number;
  nTrain: number;
  steps: number;
  lr: number;
  seed: number;
}

/** "2, 3" → [2, 3]; "" → null (default layers); anything else → an error. */
export function parseLayers(
  text: string,
  nLayer: number | null,
): number[] | null | { error: string } {
  if (text.trim() === "") return null;
  const parts = text.split(",").map((s) => s.trim());
  const top = nLayer === null ? Number.POSITIVE_INFINITY : nLayer - 1;
  const layers = parts.map(Number);
  if (parts.some((p) => !/^\d+$/.test(p)) || layers.some((l) => l > top)) {
    return {
      error: `Layers are whole numbers from 0 to ${nLayer === null ? "the last" : top}, separated by commas`,
    };
  }
  if (new Set(layers).size !== layers.length) return { error: "A layer is listed twice" };
  return layers;
}

/** Trainable parameters of the draft (null while it is not valid). */
export function draftParamCount(
  d: LoreftDraft,
  config: { nLayer: number; dModel: number } | null,
): number | null {
  if (!config || !Number.isInteger(d.rank) || d.rank < 1) return null;
  const layers = parseLayers(d.layers, config.nLayer);
  if (layers !== null && !Array.isArray(layers)) return null;
  const n = layers?.length ?? defaultLoreftLayers(config).length;
  return loreftParamCount(n, d.rank, config.dModel);
}

/** The recipe for a draft, or the first problem with it. */
export function loreftRecipe(
  d: LoreftDraft,
  config: { nLayer: number; dModel: number } | null,
): { edit: LoreftEdit } | { error: string } {
  const layers = parseLayers(d.layers, config?.nLayer ?? null);
  if (layers !== null && !Array.isArray(layers)) return layers;
  const int = (x: number, lo: number) => Number.isInteger(x) && x >= lo;
  // bounds: the edit parser's (lib/params/table.ts EDIT_PARAMS); the rank also ≤ d_model
  const P = EDIT_PARAMS;
  const maxRank = Math.min(P.loreftRank.max, config?.dModel ?? Number.POSITIVE_INFINITY);
  const problem =
    paramError(P.loreftRank, d.rank, maxRank) ??
    paramError(P.nTrain, d.nTrain) ??
    paramError(P.loreftSteps, d.steps) ??
    paramError(P.loreftLr, d.lr) ??
    paramError(P.seed, d.seed);
  if (problem) return { error: problem };
  let position: LoreftPosition = d.position === "clicked" ? [] : d.position;
  if (d.position === "clicked") {
    if (d.clicked === null || !int(d.clicked, 0))
      return { error: "Click a token in the heatmap first, or pick another position" };
    position = [d.clicked];
  }
  const where = layers ? `L${layers.join(",")}` : "mid layers";
  return {
    edit: {
      kind: "loreft",
      id: `loreft-${Date.now().toString(36)}`,
      label: `LoReFT ${where} @${Array.isArray(position) ? `token ${position[0]}` : position} (ABSC, ${d.nTrain} examples)`,
      site: { ...(layers ? { layers } : {}), hook: "resid_post", position },
      params: { rank: d.rank, n_train: d.nTrain, steps: d.steps, lr: d.lr, seed: d.seed },
    },
  };
}
