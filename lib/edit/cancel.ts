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

/**
 * What a long preparation (ROME's / MEMIT's C, the context templates) reports to and is stopped
 * by: `onProgress(done, total)` after each piece of work, and `signal`, checked between pieces.
 * A cached preparation keeps the watch of the caller that started it.
 */
export interface WorkWatch {
  onProgress?: (done: number, total: number) => void;
  signal?: CancelSignal;
}

/** After a piece of work: report it, yield, and stop if cancelled. */
export async function workDone(
  watch: WorkWatch | undefined,
  done: number,
  total: number,
): Promise<void> {
  watch?.onProgress?.(done, total);
  await checkLearningCancelled(watch?.signal);
}
