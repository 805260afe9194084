/**
 * The methods that edit many facts at once (lib/edit/batch-edit.ts applyBatchEdit runs them), in
 * a module without tfjs so the page can name them (the edit panel's Batch button) from the same
 * list the worker answers `batchMethods` from (lib/edit/eval-methods.ts).
 */
import type { BatchKind } from "./types-batch";

export type BatchMethod = "rome" | BatchKind | "swea";
export const BATCH_METHODS: readonly BatchMethod[] = ["rome", "memit", "alphaedit", "pmet", "swea"];

/** Each method's name as its paper writes it. */
export const BATCH_METHOD_TITLES: Record<BatchMethod, string> = {
  rome: "ROME",
  memit: "MEMIT",
  alphaedit: "AlphaEdit",
  pmet: "PMET",
  swea: "SWEA",
};
