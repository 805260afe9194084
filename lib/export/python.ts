/**
 * Export to Python: a self-contained script that recomputes the session's causal trace with torch
 * (on the user's GPU when there is one), applying the session's ROME edits as their rank-one
 * updates. The browser's tokenizer has already turned the prompt into ids, so the script needs
 * no tokenizer; it loads the checkpoint from a folder of safetensors (single or sharded) with its
 * own loader, or through `transformers`' AutoModelForCausalLM (hub ids) when that is installed,
 * and runs the forward of the checkpoint's family (config.json model_type: gpt2, llama, mistral,
 * qwen2, gpt_neox; lib/export/python-forwards.ts). The noise is the app's seeded stream, so the
 * numbers match the app's (test/export-python*.test.ts measure by how much).
 */
import type { Edit, RomeEdit } from "../edit/types";
import type { TraceKind } from "../interp/spec";
import { PYTHON_FORWARDS } from "./python-forwards";
import { PYTHON_BODY } from "./python-template";

export interface PythonTraceInput {
  /** What --model defaults to: a hub id, or a local folder path. */
  model: string;
  /** Hub revision (transformers path only). */
  revision?: string;
  inputIds: number[];
  inputTokens: string[];
  /** [b, e) (noise corruption). */
  subject: [number, number] | null;
  /** The answer's token ids (teacher forced when several). */
  targetIds: number[];
  answer: string;
  kinds: TraceKind[];
  samples: number;
  noise: number;
  seed: number;
  window: number;
  /** Counterfactual prompt ids (prompt corruption); null: noise on the subject. */
  corruptIds: number[] | null;
  /** The edit stack; only enabled ROME edits with learned u, v are supported. */
  edits: Edit[];
  /** Layer of a ROME edit without site.layer (lib/edit/rome.ts defaultRomeLayer). */
  defaultRomeLayer: number;
  /** The app's scores per kind, for the script to report max |Δ| against. */
  expected?: Partial<Record<TraceKind, number[][]>>;
}

/**
 * lib/edit/rome.ts defaultRomeLayer, repeated so the page does not import tfjs (rome.ts does);
 * test/export-python.test.ts checks that the two agree.
 */
export function romeLayerFor(nLayer: number): number {
  return nLayer <= 8 ? 0 : Math.round(0.35 * nLayer);
}

export class PythonExportError extends Error {
  override readonly name = "PythonExportError";
}

/** A Python literal of plain data (JSON strings and numbers are Python syntax). */
export function py(x: unknown): string {
  if (x === null || x === undefined) return "None";
  if (x === true) return "True";
  if (x === false) return "False";
  if (typeof x === "number") return Number.isFinite(x) ? String(x) : "None";
  if (typeof x === "string") return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(py).join(", ")}]`;
  if (typeof x === "object") {
    const parts = Object.entries(x).map(([k, v]) => `${JSON.stringify(k)}: ${py(v)}`);
    return `{${parts.join(", ")}}`;
  }
  throw new PythonExportError(`cannot write ${typeof x} as Python`);
}

function romeUpdates(edits: Edit[], defaultLayer: number) {
  const out: { layer: number; u: number[]; v: number[] }[] = [];
  for (const e of edits) {
    if (e.enabled === false) continue;
    if (e.kind !== "rome") {
      throw new PythonExportError(
        `Export to Python applies ROME edits only; disable the ${e.kind} edit to export this trace.`,
      );
    }
    const r = e as RomeEdit;
    if (!r.learned) throw new PythonExportError("A ROME edit is still learning; wait for it.");
    out.push({ layer: r.site.layer ?? defaultLayer, u: r.learned.u, v: r.learned.v });
  }
  return out;
}

export function pythonScript(input: PythonTraceInput): string {
  if (input.corruptIds === null && !input.subject) {
    throw new PythonExportError("A noise trace needs its subject's token range.");
  }
  const header = [
    "#!/usr/bin/env python3",
    '"""Causeway session: the causal trace (ROME, Meng et al. 2022) of one prompt, recomputed with torch.',
    "",
    "    pip install torch            # transformers too, to load a hub id",
    "    python3 this_script.py --model <folder with config.json + model.safetensors | hub id> [--out scores.json]",
    "    python3 this_script.py --logits      # the (edited) model's logits of the prompt instead of the trace",
    "",
    "Prints one JSON object per trace kind with ROME's fields (scores [token][layer], low_score, high_score, ...).",
    "Input ids come from the app's tokenizer; the noise is the app's seeded stream (same numbers).",
    '"""',
    "",
    "# ---------------------------------------------------------------- the session",
    `MODEL = ${py(input.model)}`,
    `REVISION = ${py(input.revision ?? null)}`,
    `INPUT_IDS = ${py(input.inputIds)}`,
    `INPUT_TOKENS = ${py(input.inputTokens)}`,
    `SUBJECT = ${py(input.subject)}`,
    `TARGET_IDS = ${py(input.targetIds)}`,
    `ANSWER = ${py(input.answer)}`,
    `KINDS = ${py(input.kinds)}`,
    `SAMPLES = ${input.corruptIds ? 1 : input.samples}`,
    `NOISE = ${py(input.noise)}`,
    `SEED = ${input.seed >>> 0}`,
    `WINDOW = ${input.window}`,
    `CORRUPT_IDS = ${py(input.corruptIds)}`,
    `ROME_EDITS = ${py(romeUpdates(input.edits, input.defaultRomeLayer))}`,
    `EXPECTED = ${py(input.expected ?? {})}`,
    "DTYPE = None",
  ];
  const run = 'if __name__ == "__main__":\n    main()\n';
  return `${header.join("\n")}\n${PYTHON_BODY}${PYTHON_FORWARDS}\n\n${run}`;
}
