/**
 * The app's zustand store, built from slices. `createCausewayStore` makes a fresh store: the
 * React provider (components/StoreProvider) creates one per mounted app, never a global.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { createConnectionSlice } from "./connection-slice";
import { createContext } from "./context";
import { createModelSlice } from "./model-slice";
import { createPredictSlice } from "./predict-slice";
import type { CausewayState } from "./types";

export { checkPrompt, DEFAULT_TOP_K, EMPTY_PROMPT, MAX_PROMPT_CHARS } from "./predict-slice";
export type { CausewayState, ModelStatus, PredictStatus, Progress, UiError } from "./types";

export interface StoreOptions {
  /** Delay between the last keystroke and the prediction request. */
  debounceMs?: number;
  initialPrompt?: string;
}

export const DEBOUNCE_MS = 150;

export type CausewayStore = StoreApi<CausewayState>;

export function createCausewayStore(options: StoreOptions = {}): CausewayStore {
  const ctx = createContext(options.debounceMs ?? DEBOUNCE_MS);
  return createStore<CausewayState>()((...a) => ({
    ...createModelSlice(ctx)(...a),
    ...createPredictSlice(ctx, options.initialPrompt ?? "")(...a),
    ...createConnectionSlice(ctx)(...a),
  }));
}
