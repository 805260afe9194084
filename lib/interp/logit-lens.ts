/**
 * Logit lens (nostalgebraist 2020): the residual stream at each layer decoded as if it were the
 * last one, with the model's own final norm (LayerNorm or RMSNorm) and unembedding (Gpt2Model.unembed).
 *
 *   const r = await logitLens(engine, { prompt: "Ralkrok Stennos lives in the city of", topK: 5 });
 *   r.layers[i]            // "resid_pre 0" … "resid_pre L−1", "resid_post L−1"
 *   r.top[i][t]            // the k most probable tokens at row i, position t: {id, token, prob}
 *   r.target_prob[i][t]    // p(target) at row i, position t
 *
 * The target defaults to the model's own top-1 at the last position.
 */
import * as tf from "@tensorflow/tfjs";
import { blockHook } from "../model/hooks";
import { TraceError } from "./spec";
import { promptIds, singleTokenId, type TraceHost, tokenText, tokenTexts } from "./tokens";

export interface LensSpec {
  prompt: string | number[];
  /** Text (one token) or a token id. Default: the clean top-1 at the last position. */
  target?: string | number;
  /** Tokens listed per cell. Default 5. */
  topK?: number;
}

export interface LensToken {
  id: number;
  token: string;
  prob: number;
}

export interface LensResult {
  input_ids: number[];
  input_tokens: string[];
  /** Row labels: the residual stream before each block, then after the last one. */
  layers: string[];
  target: { id: number; token: string };
  /** [L + 1][T] */
  target_prob: number[][];
  /** [L + 1][T][k] */
  top: LensToken[][][];
  n_layer: number;
}

export const MAX_LENS_TOP_K = 50;

/** The hooks whose residual streams the lens decodes, with their row labels. */
export function lensRows(nLayer: number): { hook: string; label: string }[] {
  const rows = Array.from({ length: nLayer }, (_, l) => ({
    hook: blockHook(l, "hook_resid_pre"),
    label: `resid_pre ${l}`,
  }));
  rows.push({ hook: blockHook(nLayer - 1, "hook_resid_post"), label: `resid_post ${nLayer - 1}` });
  return rows;
}

/** argmax of logits [1, 1, V]. */
async function topOne(logits: tf.Tensor3D): Promise<number> {
  const best = tf.tidy(() => logits.reshape([-1]).argMax());
  try {
    return (await best.data())[0];
  } finally {
    best.dispose();
  }
}

export async function logitLens(host: TraceHost, spec: LensSpec): Promise<LensResult> {
  const { model } = host;
  const { nLayer: L, nCtx, vocabSize: V } = model.config;
  const ids = promptIds(host, spec.prompt);
  const T = ids.length;
  if (T > nCtx)
    throw new TraceError("too_long", `the prompt has ${T} tokens; the model's context is ${nCtx}`);
  const k = spec.topK ?? 5;
  if (!Number.isInteger(k) || k < 1 || k > Math.min(MAX_LENS_TOP_K, V)) {
    throw new TraceError(
      "bad_spec",
      `top-k must be an integer from 1 to ${Math.min(MAX_LENS_TOP_K, V)}, got ${k}`,
    );
  }
  const rows = lensRows(L);
  const { logits, activations } = model.forward({
    inputIds: [ids],
    record: rows.map((r) => r.hook),
    logitPositions: "last",
  });
  try {
    const target =
      spec.target === undefined
        ? await topOne(logits)
        : singleTokenId(host, ids, spec.target, "target");
    const targetProb: number[][] = [];
    const top: LensToken[][][] = [];
    // one row at a time: [T, V] probabilities per row, not [L + 1, T, V] at once
    for (const row of rows) {
      const resid = activations.get(row.hook) as tf.Tensor3D; // [1, T, D]
      const [p, vals, idx] = tf.tidy(() => {
        const u = model.unembed(resid, "all");
        const probs = tf.softmax(u.logits.reshape([T, V])); // [T, V]
        const best = tf.topk(probs, k); // [T, k]
        const pt = probs.slice([0, target], [T, 1]).reshape([T]); // [T]
        return [pt, best.values, best.indices];
      });
      try {
        const [pd, vd, id] = await Promise.all([p.data(), vals.data(), idx.data()]);
        targetProb.push(Array.from(pd));
        top.push(
          Array.from({ length: T }, (_, t) =>
            Array.from({ length: k }, (_, j) => {
              const tok = id[t * k + j];
              return { id: tok, token: tokenText(host, tok), prob: vd[t * k + j] };
            }),
          ),
        );
      } finally {
        tf.dispose([p, vals, idx]);
      }
    }
    return {
      input_ids: ids,
      input_tokens: tokenTexts(host, ids),
      layers: rows.map((r) => r.label),
      target: { id: target, token: tokenText(host, target) },
      target_prob: targetProb,
      top,
      n_layer: L,
    };
  } finally {
    tf.dispose([logits, ...activations.values()]);
  }
}
