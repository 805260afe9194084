/**
 * A cache of statistics of the unedited model (ROME's / MEMIT's C, context templates), keyed by
 * the ROOT model: the loaded model every edited view (applyEdits, Gpt2Model.withOverrides) was
 * made from. ROME and MEMIT compute these once on the original model and reuse them for every
 * later edit (rome/compute_u.py inv_mom2_cache, context_templates_cache), so a sequential edit
 * stack neither recomputes them nor takes them from an already-edited model. Entries are dropped
 * when the root model is disposed, and two loaded models never share one.
 */

import type { Gpt2Model } from "../model/gpt2";
import { baseOf, type ModelLike } from "./apply";

export class RootCache<T> {
  private readonly byRoot = new WeakMap<Gpt2Model, Map<string, Promise<T>>>();
  /** How many values were computed (not found in the cache): for tests. */
  computed = 0;

  /** The value for (root of `model`, key), made by `make(root)` on a miss; failures are not kept. */
  get(model: ModelLike, key: string, make: (root: Gpt2Model) => Promise<T>): Promise<T> {
    const root = baseOf(model).root;
    let byKey = this.byRoot.get(root);
    if (!byKey) {
      const fresh = new Map<string, Promise<T>>();
      this.byRoot.set(root, fresh);
      root.onRootDispose(() => {
        fresh.clear();
        this.byRoot.delete(root);
      });
      byKey = fresh;
    }
    let p = byKey.get(key);
    if (!p) {
      this.computed++;
      const made = make(root);
      const entries = byKey;
      p = made;
      entries.set(key, made);
      made.catch(() => {
        if (entries.get(key) === made) entries.delete(key);
      });
    }
    return p;
  }

  /** Number of values held for the root of `model` (0 once it is disposed). */
  size(model: ModelLike): number {
    return this.byRoot.get(baseOf(model).root)?.size ?? 0;
  }
}
