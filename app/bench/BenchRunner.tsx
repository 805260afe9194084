"use client";
/**
 * Runs the browser benchmark when the page opens (or on the button, with ?autorun=0) and leaves
 * the result in window.__benchResult for scripts/bench.mjs (Playwright) to read; progress lines
 * go to the page and to the console.
 */
import { useEffect, useRef, useState } from "react";
import type { BrowserBenchFailure, BrowserBenchResult } from "./run-browser";

declare global {
  interface Window {
    __benchResult?: BrowserBenchResult | BrowserBenchFailure;
  }
}

export function BenchRunner() {
  const [lines, setLines] = useState<string[]>([]);
  const [running, setRunning] = useState(false);
  const started = useRef(false);

  const run = async () => {
    if (started.current) return;
    started.current = true;
    setRunning(true);
    const t0 = performance.now();
    const log = (line: string) => {
      const text = `[${((performance.now() - t0) / 1000).toFixed(1)} s] ${line}`;
      console.log(`bench: ${text}`);
      setLines((l) => [...l, text]);
    };
    try {
      // Imported here so that tfjs loads only when a run starts, never at build time.
      const { optionsFromQuery, runBrowserBench } = await import("./run-browser");
      const opts = optionsFromQuery(location.search);
      log(`options ${JSON.stringify(opts)}`);
      window.__benchResult = await runBrowserBench(opts, log);
      log("done");
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      log(`failed: ${error}`);
      window.__benchResult = { ok: false, error };
    } finally {
      setRunning(false);
    }
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: run once on mount
  useEffect(() => {
    if (new URLSearchParams(location.search).get("autorun") !== "0") void run();
  }, []);

  return (
    <main style={{ padding: "1.5rem", fontFamily: "ui-monospace, monospace", fontSize: 13 }}>
      <h1 style={{ fontSize: 18 }}>Causeway benchmark</h1>
      <p>
        Fast and naive sweeps on the bundled model, on this browser's backend. Started by{" "}
        <code>npm run bench</code>; options in the query string: <code>backend</code>,{" "}
        <code>samples</code>, <code>prompts</code>, <code>sweeps</code>, <code>autorun=0</code>.
      </p>
      <button type="button" onClick={() => void run()} disabled={running || started.current}>
        Run
      </button>
      <pre data-testid="bench-log">{lines.join("\n")}</pre>
    </main>
  );
}
