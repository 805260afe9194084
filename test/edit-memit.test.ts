/**
 * MEMIT, AlphaEdit and BLUE through the whole pipeline on small random GPT-2s
 * (test/fixtures/edit/random-model.ts), with λ tiny and C = I so that each update reaches its
 * least-squares goal exactly and the goal can be checked with the model's own forward pass:
 *   MEMIT   after the edit, the block output at the range's last layer (subject's last token of
 *           each bare prompt) equals the request's target z; the first of L layers carried
 *           (z − h)/L of the residual
 *   BLUE    only the range's first and last layer move, each reaching its own target
 *   AlphaEdit  keys are kept for the next batch; an empty null space is refused
 * plus the format (file round trip, parse errors), bad batches (each naming the request),
 * cancelling, and no tensor left behind. The update rules themselves are checked against numpy
 * in test/edit-memit-solve.test.ts.
 */
import "../lib/model/backends-node";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyEdits, type ModelLike } from "../lib/edit/apply";
import { applyBatchEdit } from "../lib/edit/batch-edit";
import { learnBatch } from "../lib/edit/memit";
import { parseEdit, parseEditFile, serializeEdits } from "../lib/edit/parse";
import { type BatchEdit, describeEdit, type RewriteRequest } from "../lib/edit/types";
import { selectBackend } from "../lib/model/backend";
import { Gpt2Model } from "../lib/model/gpt2";
import { decodeSession, encodeSession } from "../lib/share/link";
import { DEFAULT_SESSION } from "../lib/share/session";
import { charTokenizer, randomWeights, SMALL } from "./fixtures/edit/random-model";
import { atSubjects, exactHparams, REQUESTS } from "./helpers/batch-requests";

const tok = charTokenizer;
let two: Gpt2Model;
let three: Gpt2Model;

/** Exact least squares (./helpers/batch-requests.ts). */
const EXACT = exactHparams(6);

/** blocks.{layer}.hook_resid_post at each request's subject's last token, bare prompt. */
const outputs = (m: ModelLike, layer: number) =>
  atSubjects(m, tok, `blocks.${layer}.hook_resid_post`);

const relDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    s += b[i] ** 2;
  }
  return Math.sqrt(d / s);
};

beforeAll(async () => {
  await selectBackend(["wasm"]);
  two = Gpt2Model.fromWeights(SMALL, randomWeights());
  const cfg3 = { ...SMALL, nLayer: 3 };
  three = Gpt2Model.fromWeights(cfg3, randomWeights(cfg3, 11));
});
afterAll(() => {
  two?.dispose();
  three?.dispose();
});

describe("MEMIT", () => {
  it("reaches every target z at the last layer; the first layer carries (z − h)/L", async () => {
    const before = tf.memory().numTensors;
    const h0 = await outputs(two, 1);
    const { edits } = await applyBatchEdit({
      model: two,
      tok,
      method: "memit",
      requests: REQUESTS,
      layers: [0, 1],
      hparams: EXACT,
    });
    const e = edits[0] as BatchEdit;
    expect(e.kind).toBe("memit");
    expect(e.learned!.layers.map((l) => l.layer)).toEqual([0, 1]);
    const info = e.learned!.info!;
    const edited = applyEdits(two, edits);
    const h1 = await outputs(edited, 1);
    REQUESTS.forEach((_, r) => {
      const z = info.requests[r].z;
      expect(info.requests[r].z_layer).toBe(1);
      expect(relDiff(h0[r], z)).toBeGreaterThan(0.01); // there was something to change
      expect(relDiff(h1[r], z)).toBeLessThan(2e-3);
      // layer 0's b holds (z − h₀)/2 for this request (row r of b [n, D])
      const D = SMALL.dModel;
      const b0 = e.learned!.layers[0].b.slice(r * D, (r + 1) * D);
      const half = z.map((x, j) => (x - h0[r][j]) / 2);
      expect(relDiff(b0, half)).toBeLessThan(1e-5);
    });
    edited.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a share link carries the learned edit (f16), and the edited model still reaches z", async () => {
    const { edits } = await applyBatchEdit({
      model: two,
      tok,
      method: "memit",
      requests: REQUESTS,
      layers: [0, 1],
      hparams: EXACT,
    });
    const { hash, dropped } = await encodeSession({ ...DEFAULT_SESSION, edits });
    expect(dropped).toEqual([]);
    const back = (await decodeSession(hash)).edits[0] as BatchEdit;
    expect(back.kind).toBe("memit");
    expect(back.params.requests).toEqual(REQUESTS);
    expect(back.learned!.layers[1].a).not.toEqual((edits[0] as BatchEdit).learned!.layers[1].a);
    const edited = applyEdits(two, [back]);
    const h1 = await outputs(edited, 1);
    REQUESTS.forEach((_, r) => {
      expect(relDiff(h1[r], (edits[0] as BatchEdit).learned!.info!.requests[r].z)).toBeLessThan(
        5e-3,
      );
    });
    edited.dispose();
  });

  it("an edit file keeps the learned edit; parse errors name the field", async () => {
    const { edits } = await applyBatchEdit({
      model: two,
      tok,
      method: "memit",
      blue: true,
      requests: REQUESTS.slice(0, 1),
      layers: [0, 1],
      hparams: { ...EXACT, v_num_grad_steps: 2 },
    });
    const back = parseEditFile(JSON.parse(serializeEdits(edits)));
    expect(back.edits).toEqual(JSON.parse(JSON.stringify(edits)));
    const recipe = {
      kind: "memit",
      site: { layers: [0, 1] },
      params: { requests: [{ prompt: "{} is", subject: "a", target_new: "b" }] },
    };
    expect(() => parseEdit(recipe)).not.toThrow();
    // the edit stack's row text (components/EditStack.tsx shows describeEdit)
    expect(describeEdit(edits[0])).toBe("memit+blue L0,1, 1 rewrite: bob → x");
    expect(
      describeEdit({ kind: "alphaedit", site: {}, params: { requests: REQUESTS } } as BatchEdit),
    ).toBe("alphaedit Lauto, 2 rewrites: bob → x (+1 more)");
    expect(() => parseEdit({ ...recipe, params: {} }, 3)).toThrow(
      /edit 3: params.requests must be a non-empty list/,
    );
    expect(() => parseEdit({ ...recipe, params: { ...recipe.params, blue: "yes" } })).toThrow(
      /params.blue must be true or false/,
    );
    expect(() =>
      parseEdit({ ...recipe, params: { ...recipe.params, mom2_update_weight: -1 } }),
    ).toThrow(/mom2_update_weight must be at least 0/);
    expect(() =>
      parseEdit({ ...recipe, params: { requests: [{ prompt: "{} is", subject: "a" }] } }),
    ).toThrow(/params.requests\[0\].target_new must be a string/);
  });
});

describe("BLUE", () => {
  it("moves only the first and last layer, each reaching its own target", async () => {
    const { edits } = await applyBatchEdit({
      model: three,
      tok,
      method: "memit",
      blue: true,
      requests: REQUESTS,
      layers: [0, 1, 2],
      hparams: EXACT,
    });
    const e = edits[0] as BatchEdit;
    expect(e.learned!.layers.map((l) => l.layer)).toEqual([0, 2]);
    const info = e.learned!.info!;
    expect(info.layers.map((l) => l.z_layer)).toEqual([0, 2]);
    expect(info.requests.map((r) => r.z_layer)).toEqual([0, 0, 2, 2]);
    const edited = applyEdits(three, edits);
    const h2 = await outputs(edited, 2);
    REQUESTS.forEach((_, r) => {
      expect(relDiff(h2[r], info.requests[2 + r].z)).toBeLessThan(2e-3);
    });
    edited.dispose();
  });
});

describe("AlphaEdit", () => {
  it("refuses an empty null space; keeps each layer's keys for the next batch", async () => {
    await expect(
      applyBatchEdit({
        model: two,
        tok,
        method: "alphaedit",
        requests: REQUESTS,
        layers: [0, 1],
        hparams: { ...EXACT, nullspace_threshold: 0.5 },
      }),
    ).rejects.toThrow(/alphaedit layer 0: no eigenvalue of C is below nullspace_threshold 0.5/);
    const before = tf.memory().numTensors;
    // C = I, threshold 2: P = I, so the first batch reaches its targets (up to L2)
    const hp = { ...EXACT, nullspace_threshold: 2, L2: 1e-6 };
    const first = await applyBatchEdit({
      model: two,
      tok,
      method: "alphaedit",
      requests: REQUESTS.slice(0, 1),
      layers: [0, 1],
      hparams: hp,
    });
    const e1 = first.edits[0] as BatchEdit;
    for (const l of e1.learned!.layers) expect(l.keys).toHaveLength(SMALL.dMlp);
    expect(e1.learned!.info!.layers[0].null_dim).toBe(SMALL.dMlp);
    const edited = applyEdits(two, first.edits);
    const second = await applyBatchEdit({
      model: edited,
      tok,
      method: "alphaedit",
      requests: REQUESTS.slice(1),
      layers: [0, 1],
      hparams: hp,
    });
    const both = applyEdits(two, [...first.edits, ...second.edits]);
    const h = await outputs(both, 1);
    // the second batch reaches its target; the first keeps its own (its key is preserved)
    expect(relDiff(h[1], (second.edits[0] as BatchEdit).learned!.info!.requests[0].z)).toBeLessThan(
      2e-3,
    );
    expect(relDiff(h[0], e1.learned!.info!.requests[0].z)).toBeLessThan(5e-3);
    edited.dispose();
    both.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("method rome", () => {
  it("gives one learned ROME edit per request, in order", async () => {
    const before = tf.memory().numTensors;
    const { edits } = await applyBatchEdit({
      model: two,
      tok,
      method: "rome",
      requests: REQUESTS,
      layers: [1],
      romeParams: { steps: 2, cov: "identity", context: { per_length: 0 } },
    });
    expect(edits.map((e) => e.kind)).toEqual(["rome", "rome"]);
    expect(edits.map((e) => (e.kind === "rome" ? e.params.subject : ""))).toEqual(["bob", "amy"]);
    for (const e of edits) {
      expect(e.kind === "rome" && e.site.layer).toBe(1);
      expect(e.kind === "rome" && e.learned?.u.length).toBe(SMALL.dMlp);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("bad batches", () => {
  const run = (requests: RewriteRequest[]) =>
    applyBatchEdit({ model: two, tok, method: "memit", requests, layers: [0, 1], hparams: EXACT });

  it("each error names the request; nothing leaks", async () => {
    const before = tf.memory().numTensors;
    await expect(run([REQUESTS[0], { ...REQUESTS[1], prompt: "amy plays the" }])).rejects.toThrow(
      /request 1 \("amy"\): prompt "amy plays the" has no "\{\}" for the subject/,
    );
    await expect(run([...REQUESTS, { ...REQUESTS[0], target_new: "z" }])).rejects.toThrow(
      /request 2 \("bob"\): the same subject as request 0/,
    );
    await expect(run([{ ...REQUESTS[0], target_new: " " }])).rejects.toThrow(
      /request 0 \("bob"\): target_new is empty/,
    );
    await expect(
      applyBatchEdit({ model: two, tok, method: "rome", blue: true, requests: REQUESTS }),
    ).rejects.toThrow(/BLUE is a switch of memit and alphaedit/);
    await expect(
      applyBatchEdit({ model: two, tok, method: "memit", requests: REQUESTS, layers: [1, 0] }),
    ).rejects.toThrow(/site.layers must be ascending/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a corpus too small for a positive-definite C is refused naming the layer and corpus, before any optimisation", async () => {
    const before = tf.memory().numTensors;
    let steps = 0;
    await expect(
      applyBatchEdit({
        model: two,
        tok,
        method: "memit",
        requests: REQUESTS,
        layers: [0, 1],
        hparams: { ...EXACT, mom2_dataset: "general_text" },
        dataset: { general_text: ["a cat.", "dogs"] },
        onProgress: () => {
          steps++;
        },
      }),
    ).rejects.toThrow(
      /memit layer 0: C is not positive definite \(C from 10 tokens of general_text, d_mlp 64\)/,
    );
    expect(steps).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a cancelled batch throws 'cancelled' and frees everything", async () => {
    const before = tf.memory().numTensors;
    const signal = { cancelled: false };
    const edit: BatchEdit = {
      kind: "memit",
      site: { layers: [0, 1] },
      params: { requests: REQUESTS, ...EXACT },
    };
    const p = learnBatch(two, tok, edit, {
      signal,
      onProgress: (x) => {
        if (x.phase === "target" && x.request === 1) signal.cancelled = true;
      },
    });
    await expect(p).rejects.toThrow(/cancelled/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
