/**
 * The generation panel's line to the model worker. Generation is a request beside the store's
 * traffic (nothing else in the app depends on it), so its answers go straight to the caller
 * instead of through the store: the worker client registers itself here when it starts
 * (lib/worker-client.ts) and components/GenerationPanel.tsx asks through it.
 */
import type { FromWorker, GenerateSettings } from "./protocol";

export type GenerateVariant = "original" | "edited";

export interface GeneratePort {
  /** Posts a generate request; every answer to it (progress, generated, done, error) goes to onAnswer. */
  generate(
    prompt: string,
    settings: GenerateSettings,
    variant: GenerateVariant,
    onAnswer: (msg: FromWorker) => void,
  ): number;
  /** Stops a generation between tokens; no further answers are delivered for it. */
  cancelGenerate(reqId: number): void;
}

let current: GeneratePort | null = null;
const watchers = new Set<(p: GeneratePort | null) => void>();

export function setGeneratePort(port: GeneratePort | null): void {
  current = port;
  for (const w of watchers) w(port);
}

export function generatePort(): GeneratePort | null {
  return current;
}

/** Calls back when the port changes (a new worker); returns the unsubscribe. */
export function watchGeneratePort(fn: (p: GeneratePort | null) => void): () => void {
  watchers.add(fn);
  return () => watchers.delete(fn);
}
