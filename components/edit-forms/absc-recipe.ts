/**
 * The ABSC form's draft (components/edit-forms/AbscForm.tsx) turned into the worker's request
 * (lib/edit/absc-request.ts), or the first problem with it in words for the form: the settings
 * start at the rows of lib/params/table.ts ABSC_PARAMS, the defaults of `causeway absc`.
 */
import {
  ABSC_METHOD_NAMES,
  type AbscTrainRequest,
  checkAbscRequest,
} from "../../lib/edit/absc-request";
import type { AbscMethod } from "../../lib/edit/absc-train";
import { ABSC_PARAMS } from "../../lib/params/table";

export interface AbscDraft {
  methods: AbscMethod[];
  /** "2" or "2, 3"; empty: the recipe's default layers. */
  layers: string;
  rank: number | null;
  nTrain: number | null;
  nTest: number | null;
  steps: number | null;
  lr: number | null;
  seed: number | null;
}

/** What the methods train, for the form's checkboxes. */
export const METHOD_HELP: Record<AbscMethod, string> = {
  joint: "LoReFT at the aspect + LoRA on the attention output of the layers (the paper's method)",
  loreft: "the LoReFT half alone",
  lora_all: "LoRA on the attention output of every layer (baseline)",
  ft_layer: "full fine-tuning of the layers' blocks (baseline)",
};

export function initialAbscDraft(): AbscDraft {
  const P = ABSC_PARAMS;
  return {
    methods: [...ABSC_METHOD_NAMES],
    layers: "",
    rank: P.rank.default,
    nTrain: P.nTrain.default,
    nTest: P.nTest.default,
    steps: P.steps.default,
    lr: P.lr.default,
    seed: P.seed.default,
  };
}

/** The request for a draft (methods in the CLI's order), or the first problem with it. */
export function abscRequest(
  d: AbscDraft,
  nLayer: number | null,
): { request: AbscTrainRequest } | { error: string } {
  const text = d.layers.trim();
  const parts = text === "" ? [] : text.split(",").map((s) => s.trim());
  if (parts.some((p) => !/^\d+$/.test(p))) {
    return { error: `Layers are whole numbers separated by commas, e.g. "2" or "2, 3"` };
  }
  const r = checkAbscRequest(
    {
      mode: "train",
      methods: ABSC_METHOD_NAMES.filter((m) => d.methods.includes(m)),
      ...(parts.length > 0 ? { layers: parts.map(Number) } : {}),
      rank: d.rank,
      n_train: d.nTrain,
      n_test: d.nTest,
      steps: d.steps,
      lr: d.lr,
      seed: d.seed,
    },
    nLayer,
  );
  if ("error" in r) return r;
  return { request: r.request as AbscTrainRequest };
}
