/**
 * Why nothing can run on the model now, in words (lib/store/errors.ts modelBlocker: still
 * loading, or the worker stopped and waits for its restart button), or null when it is ready:
 * a run button's disabled state and its title.
 */
import { modelBlocker } from "@/lib/store/errors";
import { useCauseway } from "./StoreProvider";

export function useModelBlocked(): string | null {
  // a string: a selector must return stable values
  return useCauseway((s) => modelBlocker(s.model)?.message ?? null);
}
