/**
 * View slice: which results tab is open (components/views/registry.tsx lists the tabs). A tab
 * opened by a link stays open while that link's recompute runs; otherwise the tab of a run that
 * starts opens (components/views/ViewTabs.tsx follows runs).
 */
import type { StateCreator } from "zustand/vanilla";
import type { CausewayState } from "./types";

/** Who opened the current tab: the first screen, the user, a shared link, or a starting run. */
export type ViewOpener = "default" | "user" | "link" | "run";

export interface ViewSlice {
  view: { tab: string; by: ViewOpener };
  setView(tab: string, by?: ViewOpener): void;
}

/** A tab id: lower-case letters, digits and dashes (also what a link may carry). */
export const VIEW_ID = /^[a-z][a-z0-9-]{0,39}$/;

export const DEFAULT_VIEW = "trace";

export function createViewSlice(): StateCreator<CausewayState, [], [], ViewSlice> {
  return (set) => ({
    view: { tab: DEFAULT_VIEW, by: "default" },
    setView(tab, by = "user") {
      if (!VIEW_ID.test(tab)) return;
      set((s) => (s.view.tab === tab && s.view.by === by ? {} : { view: { tab, by } }));
    },
  });
}
