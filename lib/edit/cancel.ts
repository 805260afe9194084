/**
 * Cancelling a learning (ROME, LoRA, LoReFT, a whole stack): the learner checks the signal at
 * the top of every optimisation step, where the step before has freed its gradients, and
 * throws EditError "cancelled"; its `finally` frees the rest, so nothing made so far leaks.
 */
import { type CancelSignal, isCancelled, nextTick } from "../interp/cancel";
import { EditError } from "./types";

export type { CancelSignal };

/**
 * Yields to the event loop (so a worker can receive a "cancel" message meanwhile), then throws
 * EditError "cancelled" if the signal is set. Without a signal it does nothing, at no cost.
 */
export async function checkLearningCancelled(signal: CancelSignal | undefined): Promise<void> {
  if (!signal) return;
  await nextTick();
  if (isCancelled(signal)) throw new EditError("cancelled", "Learning was cancelled");
}

/** True for the error a cancelled learning throws. */
export const isLearningCancelled = (e: unknown): boolean =>
  e instanceof EditError && e.code === "cancelled";
