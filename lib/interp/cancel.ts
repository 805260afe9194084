/**
 * Cancellation between passes. A sweep takes either an AbortSignal or a plain flag object that
 * the caller sets (`{ cancelled: true }`), checks it before every pass, and yields to the event
 * loop between passes so that a worker can receive the "cancel" message meanwhile.
 */
import { CodedError } from "../errors";

export type CancelSignal = AbortSignal | { cancelled: boolean };

/** Thrown by a sweep that was cancelled; every tensor it made is already disposed. */
export class CancelledError extends CodedError<"cancelled"> {
  override readonly name = "CancelledError";
  constructor() {
    super("cancelled", "the run was cancelled");
  }
}

export function isCancelled(signal: CancelSignal | undefined): boolean {
  if (!signal) return false;
  return "aborted" in signal ? signal.aborted : signal.cancelled;
}

export function throwIfCancelled(signal: CancelSignal | undefined): void {
  if (isCancelled(signal)) throw new CancelledError();
}

/** Resolves on the next macrotask (setImmediate in Node, a MessageChannel tick elsewhere). */
export function nextTick(): Promise<void> {
  const g = globalThis as unknown as {
    setImmediate?: (cb: () => void) => void;
    MessageChannel?: typeof MessageChannel;
  };
  if (typeof g.setImmediate === "function") {
    const si = g.setImmediate;
    return new Promise((resolve) => si(resolve));
  }
  if (typeof g.MessageChannel === "function") {
    return new Promise((resolve) => {
      const ch = new g.MessageChannel!();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => setTimeout(resolve, 0));
}
