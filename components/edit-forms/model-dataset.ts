/**
 * Whether the loaded model has a dataset.json, from where it was loaded: the worker looks for it
 * next to the weights (workers/model.worker.ts), so a bundled model has one, a model from a URL
 * may have one, and a hub or local-files model has none. The forms use this to default to
 * choices that need no dataset and to say why the others are off, before anything is sent.
 */
import type { CovSource } from "../../lib/edit/types";
import type { ModelSource } from "../../lib/protocol";

/** "unknown": a URL model (dataset.json is fetched from its folder) or no model yet. */
export type DatasetAvailability = "yes" | "no" | "unknown";

export function datasetAvailability(source: ModelSource | null): DatasetAvailability {
  switch (source?.kind) {
    case "bundled":
      return "yes";
    case "hub":
    case "files":
      return "no";
    default:
      return "unknown";
  }
}

/** One line for the forms: why the dataset-based choices are off. */
export function noDatasetReason(source: ModelSource | null): string {
  const from = source?.kind === "hub" ? "the Hugging Face hub" : "files on this computer";
  return `This model comes from ${from} and has no dataset.json, so prompt sets and text from the dataset are unavailable.`;
}

/** ROME's C source: the dataset-based default, or the identity when the model has no dataset. */
export function defaultCov(avail: DatasetAvailability): CovSource {
  return avail === "no" ? "identity" : "general_text+facts";
}
