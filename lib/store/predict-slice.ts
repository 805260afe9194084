/** Predict slice: the prompt and the model's top next-token predictions for it. */
import type { StateCreator } from "zustand/vanilla";
import { LIMITS, PREDICT_PARAMS } from "../params/table";
import type { Context } from "./context";
import type { CausewayState, PredictSlice, UiError } from "./types";

/** Refuse absurd pastes before they reach the tokenizer; the real limit is the context length. */
export const MAX_PROMPT_CHARS: number = LIMITS.promptChars;
export const DEFAULT_TOP_K = PREDICT_PARAMS.top.default as number;

export const EMPTY_PROMPT: UiError = {
  code: "empty_prompt",
  message: "The prompt is empty — type some text to see the model's next-token predictions.",
};

export function initialPredict(prompt = ""): PredictSlice["predict"] {
  return {
    prompt,
    topK: DEFAULT_TOP_K,
    status: "idle",
    result: null,
    original: null,
    resultPrompt: null,
    error: null,
    ms: null,
    tensorsLeft: null,
  };
}

/** An error the UI can state without asking the model, or null if the prompt may be sent. */
export function checkPrompt(prompt: string): UiError | null {
  if (prompt.length === 0) return EMPTY_PROMPT;
  if (prompt.length > MAX_PROMPT_CHARS) {
    return {
      code: "prompt_too_long",
      message: `The prompt is ${prompt.length.toLocaleString("en-US")} characters; the limit is ${MAX_PROMPT_CHARS.toLocaleString("en-US")}.`,
    };
  }
  return null;
}

/** An empty prompt has no predictions: drop the old ones rather than show them dimmed. */
function cleared(error: UiError): Partial<PredictSlice["predict"]> {
  return error.code === EMPTY_PROMPT.code
    ? { result: null, original: null, resultPrompt: null, ms: null }
    : {};
}

export function createPredictSlice(
  ctx: Context,
  prompt: string,
): StateCreator<CausewayState, [], [], PredictSlice> {
  return (set, get) => ({
    predict: initialPredict(prompt),
    setPrompt(next) {
      set((s) => ({ predict: { ...s.predict, prompt: next } }));
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      ctx.timer = null;
      const invalid = checkPrompt(next);
      if (invalid) {
        // Say so at once, and make sure no older answer lands after this.
        ctx.port?.cancelPredict();
        set((s) => ({
          predict: { ...s.predict, ...cleared(invalid), status: "error", error: invalid },
        }));
        return;
      }
      set((s) => ({ predict: { ...s.predict, status: "pending" } }));
      ctx.timer = setTimeout(() => {
        ctx.timer = null;
        get().runPrediction();
      }, ctx.debounceMs);
    },
    runPrediction() {
      const { predict, model } = get();
      if (ctx.timer !== null) clearTimeout(ctx.timer);
      ctx.timer = null;
      const invalid = checkPrompt(predict.prompt);
      if (invalid) {
        ctx.port?.cancelPredict();
        set((s) => ({
          predict: { ...s.predict, ...cleared(invalid), status: "error", error: invalid },
        }));
        return;
      }
      if (model.status !== "ready" || !ctx.port) {
        // Runs when the model becomes ready (see receive).
        set((s) => ({
          predict: { ...s.predict, status: model.status === "loading" ? "pending" : "idle" },
        }));
        return;
      }
      ctx.pendingPrompt = predict.prompt;
      ctx.port.predict(predict.prompt, predict.topK);
      set((s) => ({ predict: { ...s.predict, status: "pending" } }));
    },
  });
}
