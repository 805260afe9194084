/**
 * `causeway trace`: a ROME causal trace of one prompt (lib/interp/trace.ts).
 *
 *   causeway trace --model tiny-facts --prompt "…" --subject "…" [--kind hidden|mlp|attn|all]
 *     [--target T] [--samples 10] [--noise 3] [--seed 1] [--window W] [--corrupt-prompt C]
 *     [--strategy fast|naive] [--edits edits.json] [--backend wasm|cpu] --json
 *
 * --edits: the trace runs on the edited model (docs/edits.md; edits without learned values are
 * learned first), as a view for the prompt's length, so edits at the "last" (or "aspect")
 * position act at the prompt's own last (or aspect) token in every run of the trace.
 *
 * JSON: {input_ids, input_tokens, subject_range: [b, e) end-exclusive, answer: {id, token},
 * high_score, low_score, noise_sigma, samples, seed, window, kind, scores: [T][L], evaluations,
 * strategy, backend, ms, …}; with --kind all: {traces: {hidden, mlp, attn}, backend}.
 */

import { Engine } from "../engine";
import { type Rome, toRome } from "../export/rome-fields";
import { CancelledError } from "../interp/cancel";
import { TRACE_KINDS, TraceError, type TraceKind, type TraceSpec } from "../interp/spec";
import { runTraceKinds, type TraceResult } from "../interp/trace";
import { TRACE_PARAMS } from "../params/table";
import { paramFlag, parseFlags, requireString, UsageError } from "./args";
import type { Command } from "./command";
import { editedFromFile } from "./edit-inputs";
import { loadCliEngine } from "./engine";

/** Spec errors (subject not in the prompt, …) are the user's input: exit code 2, one line. */
export function asUsage(err: unknown): never {
  if (err instanceof TraceError || err instanceof CancelledError) throw new UsageError(err.message);
  throw err;
}

/** --window against the loaded model: a window wider than the model is refused, not echoed. */
export function checkWindowFlag(flags: Record<string, string | boolean>, engine: Engine): void {
  const nLayer = engine.model.config.nLayer;
  paramFlag(flags, "window", TRACE_PARAMS.window, {
    max: nLayer,
    why: `the model has ${nLayer} layers`,
  });
}

/** "3:7" → [3, 7] */
export function parseRange(v: string, name: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  if (!m) throw new UsageError(`--${name} must be a token range B:E (end-exclusive), got "${v}"`);
  return [Number(m[1]), Number(m[2])];
}

/** The text view of one kind's JSON result (ROME's names, as printed by --json). */
function heat(r: Rome<TraceResult>): string {
  const shades = " .:-=+*#%@";
  const span = Math.max(1e-12, r.high_score - r.low_score);
  const lines = [
    `${r.kind} trace: answer ${JSON.stringify(r.answer.token)}  high ${r.high_score.toFixed(4)}  low ${r.low_score.toFixed(4)}  window ${r.window}  ${r.evaluations} evaluations (${r.strategy}), ${r.ms.toFixed(0)} ms`,
  ];
  const w = Math.max(...r.input_tokens.map((t) => JSON.stringify(t).length));
  r.scores.forEach((row, t) => {
    const inSubject = t >= r.subject_range[0] && t < r.subject_range[1];
    const cells = row.map(
      (v) => shades[Math.max(0, Math.min(9, Math.round(((v - r.low_score) / span) * 9)))],
    );
    lines.push(
      `${JSON.stringify(r.input_tokens[t]).padEnd(w)}${inSubject ? "*" : " "} ${cells.join("")}  max ${Math.max(...row).toFixed(4)}`,
    );
  });
  return lines.join("\n");
}

export const traceCommand: Command = {
  name: "trace",
  usage:
    "causeway trace --model M --prompt P --subject S [--target T] [--kind hidden|mlp|attn|all] [--samples 10] [--noise 3] [--seed 1] [--window W] [--corrupt-prompt C] [--strategy fast|naive] [--edits edits.json] [--backend wasm|cpu] --json",
  async run(argv) {
    const flags = parseFlags(argv, {
      model: { type: "string", default: "tiny-facts" },
      prompt: { type: "string" },
      subject: { type: "string" },
      "subject-range": { type: "string" },
      target: { type: "string" },
      kind: { type: "string", default: "hidden" },
      samples: { type: "string" },
      noise: { type: "string" },
      seed: { type: "string" },
      window: { type: "string" },
      "corrupt-prompt": { type: "string" },
      strategy: { type: "string", default: "fast" },
      edits: { type: "string" },
      backend: { type: "string" },
      json: { type: "boolean", default: false },
    });
    const prompt = requireString(flags, "prompt");
    const kindFlag = flags.kind as string;
    const kinds: TraceKind[] =
      kindFlag === "all"
        ? [...TRACE_KINDS]
        : TRACE_KINDS.includes(kindFlag as TraceKind)
          ? [kindFlag as TraceKind]
          : [];
    if (kinds.length === 0)
      throw new UsageError(`--kind must be one of ${TRACE_KINDS.join(", ")}, all`);
    const strategy = flags.strategy as string;
    if (strategy !== "fast" && strategy !== "naive")
      throw new UsageError("--strategy must be fast or naive");
    const corrupt = flags["corrupt-prompt"] as string | undefined;
    let subject: TraceSpec["subject"];
    if (typeof flags["subject-range"] === "string")
      subject = parseRange(flags["subject-range"], "subject-range");
    else if (typeof flags.subject === "string" && flags.subject !== "") subject = flags.subject;
    else if (corrupt === undefined)
      throw new UsageError("--subject is required (or --corrupt-prompt)");
    const spec: Omit<TraceSpec, "kind"> = {
      prompt,
      subject,
      target: flags.target as string | undefined,
      samples: paramFlag(flags, "samples", TRACE_PARAMS.samples),
      noise: paramFlag(flags, "noise", TRACE_PARAMS.noise),
      seed: paramFlag(flags, "seed", TRACE_PARAMS.seed),
      window: paramFlag(flags, "window", TRACE_PARAMS.window),
      corruption: corrupt === undefined ? { type: "noise" } : { type: "prompt", prompt: corrupt },
      strategy,
    };
    const { engine, backend } = await loadCliEngine(
      requireString(flags, "model"),
      flags.backend as string | undefined,
    );
    const edited =
      typeof flags.edits === "string"
        ? await editedFromFile(engine, requireString(flags, "model"), flags.edits).catch((e) => {
            engine.dispose();
            throw e;
          })
        : undefined;
    try {
      checkWindowFlag(flags, engine);
      const T = engine.tokenize(prompt).ids.length;
      const host =
        edited && T > 0 && T <= engine.model.config.nCtx
          ? Engine.fromModel(engine.info.name, edited.view(T), engine.tokenizer)
          : engine;
      const extra = edited ? { edits: edited.plan.edits.length } : {};
      const traces: Partial<Record<TraceKind, Rome<TraceResult> & { backend: string }>> = {};
      // --kind all: one clean and one corrupted run shared by the three grids
      const results = await runTraceKinds(host, spec, kinds).catch(asUsage);
      kinds.forEach((kind, i) => {
        traces[kind] = { ...toRome(results[i]), backend, ...extra };
      });
      return kindFlag === "all" ? { traces, backend, ...extra } : traces[kinds[0]];
    } finally {
      edited?.dispose();
      engine.dispose();
    }
  },
  format(result) {
    const r = result as { traces?: Record<string, Rome<TraceResult>> } & Rome<TraceResult>;
    return r.traces ? Object.values(r.traces).map(heat).join("\n\n") : heat(r);
  },
};
