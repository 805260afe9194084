/**
 * PMET and PMET+BLUE (lib/edit/pmet.ts) against the torch reference
 * (scripts/reference/pmet_ref.py → test/fixtures/pmet/pmet.json): on the random GPT-2 fixture
 * and the Llama GQA fixture, two requests over layers 0–1 with C = I and 4 Adam steps, the app's
 * ΔW = a·b per layer, the FFN targets z = h_mlp + δ_mlp, the attention targets and the loss
 * curves equal the reference's, and `--save` (editedCheckpoint) moves the Llama checkpoint's
 * down_proj.weight by the reference's ΔWᵀ. Plus BLUE on a 3-layer model moving only the boundary layers,
 * each reaching its own FFN target; the edit as data (file, link, describeEdit); PMET's own
 * parameters refused when out of range; bad requests through checkRequests; no tensor leaked.
 */
import "../lib/model/backends-node";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits } from "../lib/edit/apply";
import { applyBatchEdit } from "../lib/edit/batch-edit";
import { editedCheckpoint } from "../lib/edit/checkpoint";
import { matMul } from "../lib/edit/memit-solve";
import { parseEdit, parseEditFile, serializeEdits } from "../lib/edit/parse";
import {
  type BatchEdit,
  describeEdit,
  type MemitHparams,
  type RewriteRequest,
} from "../lib/edit/types";
import { loadFamilyWeights } from "../lib/load/family-checkpoint";
import { readModelConfig } from "../lib/load/model-files";
import { directorySource } from "../lib/load/node-source";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";
import { ROOT } from "../scripts/reference/golden";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";
import { atSubjects, exactHparams, REQUESTS } from "./helpers/batch-requests";
import { loadModelDir } from "./helpers/load-model-dir";
import { relErr } from "./helpers/rel-err";

interface Golden {
  requests: RewriteRequest[];
  hparams: MemitHparams;
  cases: {
    family: string;
    model: string;
    layers: number[];
    blue: boolean;
    targets: { z: number[]; z_attn: number[]; losses: number[]; z_layer: number }[];
    updates: { layer: number; dw: number[]; shape: [number, number] }[];
  }[];
}
const g: Golden = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/pmet/pmet.json"), "utf8"));

const ALPHABET = Array.from({ length: 50 }, (_, i) => charTokenizer.decode([i])).join("");
/** The character tokenizer over the fixtures' first 50 ids (the reference's alphabet). */
const tok = {
  encode: charTokenizer.encode,
  decode: (ids: number[]) => ids.map((i) => (i < 50 ? ALPHABET[i] : "")).join(""),
  tokenText: (id: number) => (id < 50 ? ALPHABET[id] : `<id ${id}>`),
};

const models = new Map<string, Gpt2Model>();
let three: Gpt2Model;

beforeAll(async () => {
  await selectBackend(["wasm"]);
  for (const c of g.cases) {
    if (models.has(c.model)) continue;
    models.set(c.model, await loadModelDir(path.join(ROOT, c.model)));
  }
  const cfg3 = { ...SMALL, nLayer: 3 };
  three = Gpt2Model.fromWeights(cfg3, randomWeights(cfg3, 11));
});
afterAll(() => {
  for (const m of models.values()) m.dispose();
  three?.dispose();
});

describe("PMET against the torch reference", () => {
  for (const c of g.cases) {
    it(`${c.family}${c.blue ? " + BLUE" : ""}: ΔW per layer, targets and losses`, async () => {
      const model = models.get(c.model)!;
      const before = tf.memory().numTensors;
      const { edits } = await applyBatchEdit({
        model,
        tok,
        method: "pmet",
        blue: c.blue,
        requests: g.requests,
        layers: c.layers,
        hparams: g.hparams,
      });
      const e = edits[0] as BatchEdit;
      expect(e.kind).toBe("pmet");
      const info = e.learned!.info!;
      expect(info.requests).toHaveLength(c.targets.length);
      c.targets.forEach((t, i) => {
        const r = info.requests[i];
        expect(r.z_layer).toBe(t.z_layer);
        expect(r.losses).toHaveLength(t.losses.length);
        expect(relErr(r.losses, t.losses)).toBeLessThan(1e-4);
        expect(relErr(r.z, t.z)).toBeLessThan(1e-4);
        expect(relErr(r.z_attn!, t.z_attn)).toBeLessThan(1e-4);
      });
      expect(e.learned!.layers.map((l) => l.layer)).toEqual(c.updates.map((u) => u.layer));
      const n = g.requests.length;
      c.updates.forEach((u, i) => {
        const l = e.learned!.layers[i];
        const [M, D] = u.shape;
        const dw = matMul(Float64Array.from(l.a), Float64Array.from(l.b), M, n, D);
        expect(relErr(dw, u.dw)).toBeLessThan(1e-3);
      });
      expect(tf.memory().numTensors).toBe(before);
      if (c.family !== "llama") return;
      // --save: the checkpoint's down_proj.weight [D, M] (nn.Linear) moved by the reference's ΔWᵀ
      const src = directorySource(path.join(ROOT, c.model));
      const config = await readModelConfig(src);
      const { hub } = await loadFamilyWeights(src, config);
      const ck = editedCheckpoint(config, { hub }, edits);
      expect(ck.weightEdits).toEqual([0]);
      for (const u of c.updates) {
        const name = `model.layers.${u.layer}.mlp.down_proj.weight`;
        const [M, D] = u.shape;
        const was = hub.get(name)!.data;
        const now = ck.tensors.get(name)!.data;
        const moved = Float64Array.from({ length: D * M }, (_, i) => now[i] - was[i]); // [D, M]
        const want = Float64Array.from(
          { length: D * M },
          (_, i) => u.dw[(i % M) * D + Math.floor(i / M)],
        );
        expect(relErr(moved, want)).toBeLessThan(1e-3);
      }
    });
  }
});

/** C = I, λ tiny: each layer's update reaches its least-squares goal exactly. */
const EXACT = exactHparams(3);

describe("PMET + BLUE on three layers", () => {
  it("moves only layers 0 and 2; layer 2's FFN output reaches its own target", async () => {
    const before = tf.memory().numTensors;
    const { edits } = await applyBatchEdit({
      model: three,
      tok,
      method: "pmet",
      blue: true,
      requests: REQUESTS,
      layers: [0, 1, 2],
      hparams: EXACT,
    });
    const e = edits[0] as BatchEdit;
    expect(e.learned!.layers.map((l) => l.layer)).toEqual([0, 2]);
    const info = e.learned!.info!;
    expect(info.requests.map((r) => r.z_layer)).toEqual([0, 0, 2, 2]);
    const edited = applyEdits(three, edits);
    const out = await atSubjects(edited, tok, "blocks.2.hook_mlp_out");
    const h0 = await atSubjects(three, tok, "blocks.2.hook_mlp_out");
    REQUESTS.forEach((_, r) => {
      const z = info.requests[2 + r].z;
      expect(relErr(h0[r], z)).toBeGreaterThan(1e-3); // there was something to change
      expect(relErr(out[r], z)).toBeLessThan(2e-3);
    });
    // without BLUE all three layers move, the residual spread by √(layers left)
    const plain = await applyBatchEdit({
      model: three,
      tok,
      method: "pmet",
      requests: REQUESTS,
      layers: [0, 1, 2],
      hparams: EXACT,
    });
    const p = plain.edits[0] as BatchEdit;
    expect(p.learned!.layers.map((l) => l.layer)).toEqual([0, 1, 2]);
    const D = SMALL.dModel;
    const b0 = p.learned!.layers[0].b.slice(0, D);
    const z0 = p.learned!.info!.requests[0].z;
    expect(
      relErr(
        b0,
        z0.map((x, j) => (x - h0[0][j]) / Math.sqrt(3)),
      ),
    ).toBeLessThan(1e-5);
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("the pmet edit as data", () => {
  it("an edit file and a link keep it; describeEdit names it; PMET's params are checked", async () => {
    const { edits } = await applyBatchEdit({
      model: three,
      tok,
      method: "pmet",
      blue: true,
      requests: REQUESTS.slice(0, 1),
      layers: [0, 2],
      hparams: { ...EXACT, v_num_grad_steps: 1 },
    });
    expect(describeEdit(edits[0])).toBe("pmet+blue L0,2, 1 rewrite: bob → x");
    const back = parseEditFile(JSON.parse(serializeEdits(edits)));
    expect(back.edits).toEqual(JSON.parse(JSON.stringify(edits)));
    const { hash, dropped } = await encodeSession({ ...DEFAULT_SESSION, edits });
    expect(dropped).toEqual([]);
    const linked = (await decodeSession(hash)).edits[0] as BatchEdit;
    expect(linked.kind).toBe("pmet");
    expect(linked.params.blue).toBe(true);
    expect(linked.learned!.layers.map((l) => l.layer)).toEqual([0, 2]);
    // the shape, as a recipe
    const recipe = {
      kind: "pmet",
      site: { layers: [0, 1, 2] },
      params: {
        requests: [{ prompt: "{} lives in", subject: "bob", target_new: "x", target_true: "y" }],
        blue: true,
      },
    };
    expect(() => parseEdit(recipe)).not.toThrow();
    expect(() =>
      parseEdit({ ...recipe, params: { ...recipe.params, nll_loss_factor: -1 } }),
    ).toThrow(/params.nll_loss_factor must be/);
    expect(() => parseEdit({ ...recipe, params: { ...recipe.params, v_loss_layer: 1.5 } })).toThrow(
      /params.v_loss_layer must be a non-negative integer/,
    );
  });

  it("bad input: a subject missing from its prompt, duplicate subjects, v_loss_layer not the last; nothing leaks", async () => {
    const before = tf.memory().numTensors;
    const run = (requests: RewriteRequest[], hparams: MemitHparams = EXACT) =>
      applyBatchEdit({ model: three, tok, method: "pmet", requests, layers: [0, 1], hparams });
    await expect(run([{ ...REQUESTS[0], prompt: "bob lives in" }])).rejects.toThrow(
      /request 0 \("bob"\): prompt "bob lives in" has no "\{\}" for the subject/,
    );
    await expect(run([REQUESTS[0], { ...REQUESTS[0], target_new: "z" }])).rejects.toThrow(
      /request 1 \("bob"\): the same subject as request 0/,
    );
    await expect(run(REQUESTS, { ...EXACT, v_loss_layer: 1 })).rejects.toThrow(
      /pmet: params.v_loss_layer 1 is not supported: the loss is read at the last layer \(2\)/,
    );
    expect(tf.memory().numTensors).toBe(before);
  });
});
