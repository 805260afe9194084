/**
 * Export to Python (lib/export/python.ts): the generated script compiles (python3 -m py_compile),
 * and where Debian's /usr/bin/python3 has torch it runs on the bundled model and must give the
 * app's trace (lib/interp runTrace on wasm) — with and without a ROME rank-one update applied
 * (applyEdits in the app, W += u vᵀ in the script). The transformers path is not run here.
 */
import "../lib/model/backends-node";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { defaultRomeLayer } from "../lib/edit/rome";
import type { Edit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import {
  PythonExportError,
  type PythonTraceInput,
  pythonScript,
  romeLayerFor,
} from "../lib/export/python";
import { GaussianRng } from "../lib/interp/rng";
import type { TraceKind } from "../lib/interp/spec";
import { runTrace } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import { hasTorch, TORCH_PY, TorchScripts } from "./helpers/torch-scripts";
import { workLimit } from "./helpers/work-budget";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const compilePy = ["python3", TORCH_PY].find(
  (p) => spawnSync(p, ["-c", "pass"], { encoding: "utf8" }).status === 0,
);
const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
const KINDS: TraceKind[] = ["hidden", "mlp", "attn"];
const fact = { prompt: "Ralkrok Stennos lives in the city of", subject: "Ralkrok Stennos" };
const tmp = mkdtempSync(path.join(tmpdir(), "causeway-py-"));
/** One torch run of a generated script (3 traces, ~20 s idle with torch's import). */
const SCRIPT_MS = workLimit({ units: 1, perUnitMs: 900_000 });
/** Up to two app traces of the 3 kinds (~5 s each idle) and one script run. */
const TRACE_AND_SCRIPT_MS = workLimit({ units: 2, perUnitMs: 300_000 }) + SCRIPT_MS;

let engine: Engine;

function maxAbs(a: number[][], b: number[][]): number {
  let m = 0;
  a.forEach((row, i) => {
    row.forEach((v, j) => {
      m = Math.max(m, Math.abs(v - b[i][j]));
    });
  });
  return m;
}

type AppTrace = Awaited<ReturnType<typeof traceOf>>;
let plainTrace: Promise<AppTrace> | undefined;

/** The app's trace of every kind and the script input describing it (unedited: once a file). */
function appTrace(edits: Edit[]): Promise<AppTrace> {
  if (edits.length > 0) return traceOf(edits);
  plainTrace ??= traceOf([]);
  return plainTrace;
}

async function traceOf(edits: Edit[]) {
  const ids = engine.tokenizer.encode(fact.prompt);
  const host =
    edits.length > 0 ? { model: applyEdits(engine.model, edits).view(ids.length) } : engine;
  const spec = { prompt: ids, subject: [0, 0] as [number, number], samples: 4, noise: 3, seed: 5 };
  const sub = (
    await runTrace(engine, {
      prompt: fact.prompt,
      subject: fact.subject,
      kind: "hidden",
      samples: 1,
    })
  ).subject;
  spec.subject = sub;
  const before = tf.memory().numTensors;
  const results = [];
  for (const kind of KINDS) results.push(await runTrace(host, { ...spec, kind }));
  expect(tf.memory().numTensors).toBe(before);
  const r0 = results[0];
  const input: PythonTraceInput = {
    model: BUNDLED_DIR,
    inputIds: r0.ids,
    inputTokens: r0.tokens,
    subject: r0.subject,
    targetIds: r0.answer.ids,
    answer: r0.answer.token,
    kinds: KINDS,
    samples: 4,
    noise: 3,
    seed: 5,
    window: r0.window,
    corruptIds: null,
    edits,
    defaultRomeLayer: 0,
  };
  return { results, input };
}

const torch = new TorchScripts();

async function runScript(name: string, script: string) {
  const file = path.join(tmp, `${name}.py`);
  const out = path.join(tmp, `${name}.json`);
  writeFileSync(file, script);
  const r = await torch.run(file, ["--device", "cpu", "--out", out], SCRIPT_MS);
  const why = r.status === null ? " (CAUSEWAY_TEST_TIME_SCALE raises the limit)" : "";
  expect(r.status, r.output + why).toBe(0);
  return JSON.parse(readFileSync(out, "utf8")) as {
    kind: TraceKind;
    scores: number[][];
    low_score: number;
    high_score: number;
  }[];
}

describe.skipIf(!present)("export to Python", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => {
    engine?.dispose();
    torch.close();
  });

  it(`the script compiles (${compilePy ? `${compilePy} -m py_compile` : "SKIPPED: no python3"})`, async () => {
    if (!compilePy) return;
    const { input } = await appTrace([]);
    const file = path.join(tmp, "compile.py");
    writeFileSync(
      file,
      pythonScript({ ...input, inputTokens: [...input.inputTokens, 'quote " and \\ and \n'] }),
    );
    const r = spawnSync(compilePy, ["-m", "py_compile", file], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  it("uses the app's default ROME layer", () => {
    for (const nLayer of [1, 4, 6, 8, 12, 24, 48]) {
      const config = { ...engine.model.config, nLayer };
      expect(romeLayerFor(nLayer)).toBe(defaultRomeLayer(config));
    }
  });

  it("refuses edits it cannot apply", () => {
    const base = {
      model: "x",
      inputIds: [1],
      inputTokens: ["a"],
      subject: [0, 1] as [number, number],
      targetIds: [2],
      answer: "b",
      kinds: KINDS,
      samples: 1,
      noise: 3,
      seed: 1,
      window: 1,
      corruptIds: null,
      defaultRomeLayer: 0,
    };
    const steer = { kind: "head_scale", site: { layer: 0, head: 0 }, params: { scale: 0 } } as Edit;
    expect(() => pythonScript({ ...base, edits: [steer] })).toThrow(PythonExportError);
    expect(() => pythonScript({ ...base, edits: [{ ...steer, enabled: false }] })).not.toThrow();
  });

  it.skipIf(!hasTorch)(
    `runs on the bundled model and matches the app's trace (${hasTorch ? "torch at /usr/bin/python3" : "SKIPPED: /usr/bin/python3 has no torch"})`,
    async () => {
      const { results, input } = await appTrace([]);
      const py = await runScript("plain", pythonScript(input));
      const diffs = results.map((r, i) => maxAbs(py[i].scores, r.scores));
      console.log(
        `python vs app (wasm), max |Δ| per kind: ${diffs.map((d) => d.toExponential(2)).join(", ")}`,
      );
      for (const [i, r] of results.entries()) {
        expect(py[i].kind).toBe(KINDS[i]);
        expect(Math.abs(py[i].low_score - r.low)).toBeLessThan(1e-4);
        expect(Math.abs(py[i].high_score - r.high)).toBeLessThan(1e-4);
        expect(diffs[i]).toBeLessThan(1e-4);
      }
      // the trace is not trivial: restoring the subject's last token at layer 0 brings the answer back
      expect(Math.max(...results[0].scores.flat()) - results[0].low).toBeGreaterThan(0.1);
    },
    TRACE_AND_SCRIPT_MS,
  );

  it.skipIf(!hasTorch)(
    `applies a ROME rank-one update as the app does (${hasTorch ? "torch" : "SKIPPED: /usr/bin/python3 has no torch"})`,
    async () => {
      const rng = new GaussianRng(11);
      const { dMlp, dModel } = engine.model.config as unknown as { dMlp: number; dModel: number };
      const u = Array.from({ length: dMlp }, () => rng.nextNormal() / Math.sqrt(dMlp));
      const v = Array.from({ length: dModel }, () => rng.nextNormal() * 2);
      const rome = {
        kind: "rome",
        site: { layer: 1 },
        params: { prompt: "{} lives in the city of", subject: fact.subject, target_new: " Rome" },
        learned: { u, v },
      } as Edit;
      const { results, input } = await appTrace([rome]);
      const { results: plain } = await appTrace([]);
      // the update changes the numbers, so matching below is not matching the unedited model
      expect(Math.abs(results[0].high - plain[0].high)).toBeGreaterThan(1e-3);
      const py = await runScript("rome", pythonScript(input));
      const diffs = results.map((r, i) => maxAbs(py[i].scores, r.scores));
      console.log(
        `python vs app with ROME update, max |Δ| per kind: ${diffs.map((d) => d.toExponential(2)).join(", ")}`,
      );
      for (const d of diffs) expect(d).toBeLessThan(1e-4);
    },
    TRACE_AND_SCRIPT_MS,
  );
});
