/**
 * The browser half of `npm run bench`: the bundled model on the chosen backend (webgpu by
 * default), on the main thread, short and long prompts, the three trace kinds and the head sweep,
 * fast and naive (scripts/bench/core.ts measures both the same way as in Node).
 */
import "@/lib/model/backends-browser";
import * as tf from "@tensorflow/tfjs";
import { Engine } from "@/lib/engine";
import { parseKnownFacts } from "@/lib/interp/dataset";
import { urlSource } from "@/lib/load/url-source";
import { selectBackend } from "@/lib/model/backend";
import type { BackendName } from "@/lib/protocol";
import {
  type BenchRow,
  benchSweep,
  type PromptPlan,
  SWEEPS,
  type SweepName,
  warmUp,
} from "@/scripts/bench/core";
import { bundledPrompts, PROMPT_LENGTHS, type PromptLabel } from "@/scripts/bench/prompts";

export interface BrowserBenchOptions {
  backend: BackendName;
  samples: number;
  prompts: PromptPlan[];
}

export interface BrowserBenchResult {
  ok: true;
  backend: string;
  adapter?: string;
  userAgent: string;
  model: { name: string; params: number; samples: number };
  plan: PromptPlan[];
  prompts: { label: string; ids: number[]; tokens?: string[]; subject: [number, number] }[];
  loadMs: number;
  warmUpMs: number;
  totalMs: number;
  rows: BenchRow[];
}

export interface BrowserBenchFailure {
  ok: false;
  error: string;
}

export const MODEL = "tiny-facts";

/**
 * Reads the run's options from the page's query string:
 *   ?backend=webgpu&samples=2&plan=short:hidden+mlp+attn+heads:2,long:hidden+heads
 * plan: per prompt, its sweeps and (optional) the rows naive is measured on (none: in full).
 */
export function optionsFromQuery(search: string): BrowserBenchOptions {
  const q = new URLSearchParams(search);
  const samples = Number(q.get("samples") ?? 10);
  const prompts: PromptPlan[] = [];
  for (const part of (q.get("plan") ?? "short,long").split(",")) {
    const [label, sweeps, rows] = part.split(":");
    if (!(label in PROMPT_LENGTHS)) continue;
    const list = (sweeps ?? "")
      .split("+")
      .filter((x): x is SweepName => SWEEPS.includes(x as SweepName));
    const k = Number(rows);
    prompts.push({
      label: label as PromptLabel,
      sweeps: list.length > 0 ? list : [...SWEEPS],
      ...(Number.isInteger(k) && k > 0 ? { naiveRows: k } : {}),
    });
  }
  return {
    backend: (q.get("backend") as BackendName | null) ?? "webgpu",
    samples: Number.isInteger(samples) && samples > 0 ? samples : 10,
    prompts,
  };
}

export async function runBrowserBench(
  opts: BrowserBenchOptions,
  log: (line: string) => void,
): Promise<BrowserBenchResult> {
  const started = performance.now();
  const { backend, adapter } = await selectBackend([opts.backend]);
  log(`backend ${backend}${adapter ? ` (${adapter})` : ""}`);
  let t = performance.now();
  const engine = await Engine.load(urlSource(`${location.origin}/models/${MODEL}`), MODEL);
  const loadMs = performance.now() - t;
  try {
    const res = await fetch(`/models/${MODEL}/dataset.json`);
    if (!res.ok) throw new Error(`dataset.json: HTTP ${res.status}`);
    const facts = parseKnownFacts(await res.json());
    const prompts = await bundledPrompts(
      engine,
      facts,
      opts.prompts.map((p) => p.label),
    );
    log(
      `${MODEL}: ${engine.model.nParams} parameters, loaded in ${loadMs.toFixed(0)} ms; N = ${opts.samples}; prompts ${prompts.map((p) => `${p.label} ${p.ids.length} tokens`).join(", ")}`,
    );
    t = performance.now();
    const warmUpMs = await warmUp(engine, prompts[0], opts.samples, "full");
    log(`warm-up ${(warmUpMs / 1000).toFixed(1)} s`);
    const rows: BenchRow[] = [];
    for (const p of opts.prompts) {
      const prompt = prompts.find((x) => x.label === p.label)!;
      for (const sweep of p.sweeps) {
        rows.push(
          await benchSweep(engine, backend, MODEL, prompt, sweep, {
            samples: opts.samples,
            naiveRows: p.naiveRows,
            log,
          }),
        );
      }
    }
    return {
      ok: true,
      backend,
      ...(adapter ? { adapter } : {}),
      userAgent: navigator.userAgent,
      model: { name: MODEL, params: engine.model.nParams, samples: opts.samples },
      plan: opts.prompts,
      prompts: prompts.map((p) => ({
        label: p.label,
        ids: p.ids,
        ...(p.tokens ? { tokens: p.tokens } : {}),
        subject: p.subject,
      })),
      loadMs,
      warmUpMs,
      totalMs: performance.now() - started,
      rows,
    };
  } finally {
    engine.dispose();
    if (tf.memory().numTensors !== 0) log(`warning: ${tf.memory().numTensors} tensors left`);
  }
}
