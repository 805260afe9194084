/**
 * Generate slice: text after the prompt from the original model and from the model with the
 * edit stack, side by side (the same settings and seed, so the texts differ only by the edits).
 * Each side is a lane of the client ("generate:original", "generate:edited"): the latest
 * request per side wins and its answers arrive here through connection-slice.
 */
import type { StateCreator } from "zustand/vanilla";
import { DEFAULT_GENERATION } from "../params/table";
import { type FromWorker, type GenerateVariant, isProgressOf } from "../protocol";
import type { Context } from "./context";
import { NO_WORKER } from "./errors";
import type { CausewayState, GenerateSide, GenerateSlice } from "./types";

export const IDLE_GENERATE: GenerateSide = { status: "idle", done: 0, result: null, error: null };
export const GENERATE_VARIANTS: readonly GenerateVariant[] = ["original", "edited"];

export function initialGenerate(): GenerateSlice["generate"] {
  return { original: IDLE_GENERATE, edited: IDLE_GENERATE };
}

/** Folds an answer to a side's latest generate request into that side. */
export function reduceGenerate(side: GenerateSide, msg: FromWorker): GenerateSide {
  if (side.status !== "running") return side;
  if (isProgressOf(msg, "generate")) return { ...side, done: msg.done };
  switch (msg.type) {
    case "generate":
      return { ...side, status: "done", result: msg.result };
    case "error":
      return { ...side, status: "error", error: { code: msg.code, message: msg.message } };
    default:
      return side;
  }
}

export function createGenerateSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], GenerateSlice> {
  return (set) => ({
    generate: initialGenerate(),
    generateSettings: DEFAULT_GENERATION,
    setGenerateSettings(patch) {
      set((s) => ({ generateSettings: { ...s.generateSettings, ...patch } }));
    },
    startGenerate(prompt, settings) {
      const port = ctx.port;
      if (!port) {
        const error = NO_WORKER;
        set({
          generate: {
            original: { ...IDLE_GENERATE, status: "error", error },
            edited: { ...IDLE_GENERATE, status: "error", error },
          },
        });
        return;
      }
      for (const v of GENERATE_VARIANTS) port.generate(prompt, settings, v);
      set({
        generate: {
          original: { ...IDLE_GENERATE, status: "running" },
          edited: { ...IDLE_GENERATE, status: "running" },
        },
      });
    },
    stopGenerate() {
      for (const v of GENERATE_VARIANTS) ctx.port?.cancelGenerate(v);
      set((s) => ({
        generate: {
          original: s.generate.original.status === "running" ? IDLE_GENERATE : s.generate.original,
          edited: s.generate.edited.status === "running" ? IDLE_GENERATE : s.generate.edited,
        },
      }));
    },
    clearGenerate(variant) {
      if (!variant) {
        for (const v of GENERATE_VARIANTS) ctx.port?.cancelGenerate(v);
        set({ generate: initialGenerate() });
        return;
      }
      ctx.port?.cancelGenerate(variant);
      set((s) => ({ generate: { ...s.generate, [variant]: IDLE_GENERATE } }));
    },
  });
}
