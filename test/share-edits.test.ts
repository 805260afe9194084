/**
 * A ROME edit's learned u, v travel in a link rounded to f16: the edited model's numbers must stay
 * within the stated tolerance. On the bundled model, a rank-one update of the size ROME learns
 * there (‖u‖ ≈ 1, ‖v‖ ≈ 80: a strong edit, so rounding matters more than in a learned one) is applied exactly and from a decoded link; every cell of a trace on
 * the edited model (probabilities) agrees within 1e-3.
 */
import "../lib/model/backends-node";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import type { Edit, RomeEdit } from "../lib/edit/types";
import type { Engine } from "../lib/engine";
import { GaussianRng } from "../lib/interp/rng";
import { runTrace } from "../lib/interp/trace";
import { selectBackend } from "../lib/model/backend";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";
import { BUNDLED_DIR, loadEngine } from "./interp-helpers";

const present = existsSync(path.join(BUNDLED_DIR, "model.safetensors"));
let engine: Engine;

describe.skipIf(!present)("ROME edit through a link", () => {
  beforeAll(async () => {
    await selectBackend(["wasm"]);
    engine = await loadEngine(BUNDLED_DIR);
  });
  afterAll(() => engine?.dispose());

  it("f16 u, v change the edited model's trace by < 1e-3", async () => {
    const { dMlp, dModel } = engine.model.config;
    const rng = new GaussianRng(3);
    const u = Array.from({ length: dMlp }, () => rng.nextNormal() / Math.sqrt(dMlp));
    const v = Array.from({ length: dModel }, () => (rng.nextNormal() * 80) / Math.sqrt(dModel));
    const edit: RomeEdit = {
      kind: "rome",
      site: { layer: 0 },
      params: {
        prompt: "{} lives in the city of",
        subject: "Ralkrok Stennos",
        target_new: " Rome",
      },
      learned: { u, v },
    };
    const { hash } = await encodeSession({ ...DEFAULT_SESSION, edits: [edit] });
    const back = (await decodeSession(hash)).edits[0] as RomeEdit;
    expect(back.learned?.u).not.toEqual(u); // rounded…
    const ids = engine.tokenizer.encode("Ralkrok Stennos lives in the city of");
    const trace = async (e: Edit) =>
      runTrace(
        { model: applyEdits(engine.model, [e]).view(ids.length) },
        { prompt: ids, subject: [0, 3], samples: 2 },
      );
    const [exact, shared, plain] = [
      await trace(edit),
      await trace(back),
      await runTrace(engine, { prompt: ids, subject: [0, 3], samples: 2 }),
    ];
    const d = Math.max(...exact.scores.flat().map((x, i) => Math.abs(x - shared.scores.flat()[i])));
    const effect = Math.abs(exact.high - plain.high);
    console.log(
      `f16 ROME update: max |Δ| over the trace = ${d.toExponential(2)} (edit effect on p(answer): ${effect.toFixed(3)})`,
    );
    expect(effect).toBeGreaterThan(1e-2); // the edit does something
    expect(d).toBeLessThan(1e-3);
    expect(Math.abs(exact.high - shared.high)).toBeLessThan(1e-3);
  });
});
