/**
 * The failure channel between tfjs-wasm's pthreads and the page. A pthread that traps inside a
 * kernel never finishes its share of the work, and the model worker waits for it in
 * `Atomics.wait` inside wasm: its event loop never runs again, so it can neither handle the
 * thread's error nor answer. The pthreads therefore report their own errors on a
 * BroadcastChannel whose name is random per model worker; the worker client (the page) listens
 * and, on a report, fails every waiting request and terminates the worker (docs/architecture.md).
 *
 *   page:          name = modelWorkerName({ channel: newChannelName(), threads: true })
 *                  new Worker(url, { name }); new BroadcastChannel(channel).onmessage = …
 *   model worker:  parseModelWorkerName(self.name) → prepends pthreadPreamble(channel) to the
 *                  pthread script (lib/model/backends-browser.ts)
 *   pthread:       error / unhandledrejection → channel.postMessage(ThreadReport)
 */

/** What a pthread posts on the channel. */
export interface ThreadReport {
  source: typeof SOURCE;
  kind: "error" | "unhandledrejection";
  message: string;
}

/** What the page tells a model worker through its name. */
export interface ModelWorkerSettings {
  /** The BroadcastChannel its pthreads report on. */
  channel: string;
  /** false: never start tfjs-wasm's threaded build (a worker restarted after a failure). */
  threads: boolean;
}

const SOURCE = "causeway-pthread";
const NAME_PREFIX = "causeway-model ";
const MAX_MESSAGE = 300;

/** A fresh channel name (getRandomValues: randomUUID needs a secure context). */
export function newChannelName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `causeway-threads-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** The model worker's `name` (the one thing a page can hand a classic worker before it runs). */
export function modelWorkerName(s: ModelWorkerSettings): string {
  return `${NAME_PREFIX}${JSON.stringify({ channel: s.channel, threads: s.threads })}`;
}

/** The settings in a model worker's name; null for any other name (e.g. a test's worker). */
export function parseModelWorkerName(name: string | undefined): ModelWorkerSettings | null {
  if (!name?.startsWith(NAME_PREFIX)) return null;
  try {
    const v = JSON.parse(name.slice(NAME_PREFIX.length)) as Partial<ModelWorkerSettings>;
    if (typeof v.channel !== "string" || typeof v.threads !== "boolean") return null;
    return { channel: v.channel, threads: v.threads };
  } catch {
    return null;
  }
}

/**
 * Script text put before the pthread script: reports the thread's uncaught errors on `channel`.
 * It starts with the script's own "use strict" (a directive counts only at the very start).
 * Emscripten's handlers still run after it: nothing here prevents the default.
 */
export function pthreadPreamble(channel: string): string {
  return `"use strict";(() => {
  const channel = new BroadcastChannel(${JSON.stringify(channel)});
  const report = (kind, e) => {
    let message;
    try {
      message = e instanceof Error ? e.name + ": " + e.message : String(e);
    } catch {
      message = "an unprintable error";
    }
    try {
      channel.postMessage({ source: ${JSON.stringify(SOURCE)}, kind, message: message.slice(0, ${MAX_MESSAGE}) });
    } catch {}
  };
  self.addEventListener("error", (ev) => report("error", ev.error ?? ev.message));
  self.addEventListener("unhandledrejection", (ev) => report("unhandledrejection", ev.reason));
})();
`;
}

/** A channel message as a report; null for anything else (it may come from any same-origin page). */
export function parseThreadReport(data: unknown): ThreadReport | null {
  if (typeof data !== "object" || data === null) return null;
  const d = data as Partial<ThreadReport>;
  if (d.source !== SOURCE || typeof d.message !== "string") return null;
  if (d.kind !== "error" && d.kind !== "unhandledrejection") return null;
  return { source: SOURCE, kind: d.kind, message: d.message.slice(0, MAX_MESSAGE) };
}

/** The one-line reason shown for a report. */
export function threadFailure(r: ThreadReport): string {
  const what = r.kind === "error" ? r.message : `unhandled rejection: ${r.message}`;
  return `a thread of the WASM backend failed (${what.replace(/^Uncaught /, "")})`;
}
