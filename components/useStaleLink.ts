"use client";
/**
 * Keeps a shared link true to the screen: while one is shown, the session it encodes is
 * compared with the session on screen (settings, prompt, edits, model; the trace when the link
 * carried it) a moment after each change of the store; once they differ, `onStale` is called
 * once (the Share box then drops the link and its "copied", and the address bar its hash).
 */
import { useEffect } from "react";
import { sessionOf } from "@/lib/share/store";
import type { CausewayState, CausewayStore } from "@/lib/store";

/** What a link encodes of the screen, comparable by value (the trace by identity). */
export interface SharedMark {
  key: string;
  trace: CausewayState["trace"]["result"] | undefined;
}

/** The mark of the session on screen; `withTrace` when the link carries the heatmaps. */
export function markOf(s: CausewayState, withTrace: boolean): SharedMark {
  return {
    key: JSON.stringify(sessionOf(s, false)),
    trace: withTrace ? s.trace.result : undefined,
  };
}

const CHECK_DELAY_MS = 200;

export function useStaleLink(
  store: CausewayStore,
  mark: SharedMark | null,
  onStale: () => void,
): void {
  useEffect(() => {
    if (!mark) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let done = false;
    const check = () => {
      timer = null;
      if (done) return;
      const s = store.getState();
      const now = markOf(s, mark.trace !== undefined);
      if (now.key !== mark.key || now.trace !== mark.trace) {
        done = true;
        onStale();
      }
    };
    const unsubscribe = store.subscribe(() => {
      if (timer === null && !done) timer = setTimeout(check, CHECK_DELAY_MS);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [store, mark, onStale]);
}
