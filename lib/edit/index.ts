/**
 * Model editing: edits as data (types.ts, parse.ts), applied as weight deltas and interventions
 * without touching the loaded weights (apply.ts, plan.ts), learned on the model (learn.ts: ROME
 * in rome.ts, head edits in heads.ts, representation steering in steer.ts), measured (metrics.ts)
 * and written out as an HF checkpoint (checkpoint.ts). docs/edits.md describes the file format.
 */
export type { ApplyOptions, EditedModel, ModelLike } from "./apply";
export { applyEdits, baseOf, isEdited, viewOf } from "./apply";
export type { BatchEditOptions, BatchEditResult, BatchMethod, BatchProgress } from "./batch-edit";
export { applyBatchEdit, BATCH_METHODS } from "./batch-edit";
export type { CanonicalPrompts, CanonicalScore } from "./canonical";
export { canonicalPrompts, canonicalScore } from "./canonical";
export { editedCheckpoint, writeSafetensors } from "./checkpoint";
export type { CounterFactCase, EditDataset } from "./dataset";
export { findCase, parseEditDataset, resolvePromptSet, romeEditForCase } from "./dataset";
export type { GenerateOptions, Generation } from "./generate";
export { GENERATE_DEFAULTS, generate } from "./generate";
export type { HeadProbeResult } from "./heads";
export { learnHeadAblate, learnHeadSteer, massMeanDirection, probeHeads } from "./heads";
export type { LearnOptions } from "./learn";
export { learnEdit, learnStack } from "./learn";
export type { LoraOptions, LoraStep } from "./lora";
export { learnLora } from "./lora";
export { LORA_DEFAULTS } from "./lora-site";
export type { AbscExample, LoreftStep } from "./loreft";
export {
  abscAccuracy,
  LOREFT_DEFAULTS,
  learnLoreft,
  loreftExamples,
  loreftParamCount,
} from "./loreft";
export { defaultLoreftLayers } from "./loreft-site";
export type { BatchLearnOptions } from "./memit";
export { learnBatch } from "./memit";
export { checkRequests, defaultMemitLayers, MEMIT_DEFAULTS, updatedLayers } from "./memit-params";
export type { CaseScores, CounterFactScores, RewriteCase, TextLoss } from "./metrics";
export {
  aggregateScores,
  caseScores,
  continuationScores,
  generalTextLoss,
  harmonicMean,
  rewriteCase,
} from "./metrics";
export { parseEdit, parseEditFile, serializeEdits } from "./parse";
export type { EditPlan, WeightPatch } from "./plan";
export { checkEdit, planEdits } from "./plan";
export { fitLogistic, probe, splitIndices } from "./probe";
export type { RomeComputation, RomeOptions, RomeStep } from "./rome";
export { computeRome, defaultRomeLayer, ROME_DEFAULTS, rankOneUpdate } from "./rome";
export type { EvalResult } from "./steer";
export { alphaCurve, learnResidSteer, runEval } from "./steer";
export * from "./types";
