/**
 * throttleRAF (after excalidraw's): collapses any number of calls within one animation frame
 * into one call of `fn` with the latest arguments, at the next frame. Redraws of a heatmap that
 * receives rows faster than the screen refreshes happen at most once per frame.
 */

export interface Throttled<A extends unknown[]> {
  (...args: A): void;
  /** Runs a pending call now (if any). */
  flush(): void;
  /** Drops a pending call. */
  cancel(): void;
}

type Raf = (cb: (t: number) => void) => number;
type Caf = (id: number) => void;

export function throttleRAF<A extends unknown[]>(
  fn: (...args: A) => void,
  raf: Raf = (cb) => requestAnimationFrame(cb),
  caf: Caf = (id) => cancelAnimationFrame(id),
): Throttled<A> {
  let handle: number | null = null;
  let lastArgs: A | null = null;
  const run = () => {
    handle = null;
    const args = lastArgs;
    lastArgs = null;
    if (args) fn(...args);
  };
  const throttled = ((...args: A) => {
    lastArgs = args;
    if (handle === null) handle = raf(run);
  }) as Throttled<A>;
  throttled.flush = () => {
    if (handle !== null) caf(handle);
    run();
  };
  throttled.cancel = () => {
    if (handle !== null) caf(handle);
    handle = null;
    lastArgs = null;
  };
  return throttled;
}
