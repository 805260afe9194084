/**
 * The one clock for durations (ms) in lib/, workers/ and components/: performance.now() where the
 * runtime has it (browsers, workers, Node), else Date.now().
 */
export function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}
