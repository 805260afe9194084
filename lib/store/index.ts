/**
 * The app's zustand store, built from slices. `createCausewayStore` makes a fresh store: the
 * React provider (components/StoreProvider) creates one per mounted app, never a global.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { createAbscSlice } from "./absc-slice";
import { createBatchSlice } from "./batch-slice";
import { createCompareSlice } from "./compare-slice";
import { createConnectionSlice } from "./connection-slice";
import { createConsistencySlice } from "./consistency-slice";
import { createContext } from "./context";
import { createDatasetSlice } from "./dataset-slice";
import { createEditToolsSlice } from "./edit-tools-slice";
import { createEditsSlice } from "./edits-slice";
import { createGenerateSlice } from "./generate-slice";
import { createHeadsSlice } from "./heads-slice";
import { createLensSlice } from "./lens-slice";
import { createModelSlice } from "./model-slice";
import { createPatchSlice } from "./patch-slice";
import { createPathSlice } from "./path-slice";
import { createPositionsSlice } from "./positions-slice";
import { createPredictSlice } from "./predict-slice";
import { createTraceSlice } from "./trace-slice";
import type { CausewayState, ExampleFact } from "./types";
import { createViewSlice } from "./view-slice";

export { changesModel, needsLearning, withIds } from "./edits-slice";
export { checkPrompt, DEFAULT_TOP_K, EMPTY_PROMPT, MAX_PROMPT_CHARS } from "./predict-slice";
export { isActive } from "./run";
export { currentTokens } from "./trace-slice";
export type {
  AttentionState,
  CausewayState,
  CompareSlice,
  CorruptionMode,
  EditEvalState,
  EditFormState,
  EditProgress,
  EditsSlice,
  EditsStatus,
  ExampleFact,
  GenerateSide,
  HeadProbeState,
  ModelStatus,
  PredictStatus,
  Progress,
  RunInfo,
  RunProgress,
  RunStatus,
  TraceGrid,
  TraceResultState,
  TraceSettings,
  UiError,
} from "./types";
export { DEFAULT_VIEW, VIEW_ID, type ViewOpener } from "./view-slice";

export interface StoreOptions {
  /** Delay between the last keystroke and the prediction request. */
  debounceMs?: number;
  initialPrompt?: string;
  /**
   * Known facts of the bundled model: a prompt that is one of them gets its subject (and a
   * counterfactual of the same length) filled in.
   */
  examples?: ExampleFact[];
}

export const DEBOUNCE_MS = 150;

export type CausewayStore = StoreApi<CausewayState>;

export function createCausewayStore(options: StoreOptions = {}): CausewayStore {
  const ctx = createContext(options.debounceMs ?? DEBOUNCE_MS);
  const examples = options.examples ?? [];
  const prompt = options.initialPrompt ?? "";
  // The patching panel starts on the first prompt and its counterfactual, when it has one.
  const cf = examples.find((f) => f.prompt === prompt)?.counterfactual;
  return createStore<CausewayState>()((...a) => ({
    ...createModelSlice(ctx)(...a),
    ...createPredictSlice(ctx, prompt)(...a),
    ...createTraceSlice(ctx)(...a),
    ...createPatchSlice(ctx, { clean: prompt, corrupt: cf?.prompt ?? "" })(...a),
    ...createDatasetSlice(ctx)(...a),
    ...createEditsSlice(ctx)(...a),
    ...createEditToolsSlice(ctx)(...a),
    ...createConsistencySlice(ctx)(...a),
    ...createAbscSlice(ctx)(...a),
    ...createBatchSlice(ctx)(...a),
    ...createCompareSlice(ctx)(...a),
    ...createGenerateSlice(ctx)(...a),
    ...createLensSlice(ctx)(...a),
    ...createHeadsSlice(ctx)(...a),
    ...createViewSlice()(...a),
    ...createPositionsSlice(ctx)(...a),
    ...createPathSlice(ctx)(...a),
    examples,
    ...createConnectionSlice(ctx)(...a),
  }));
}
