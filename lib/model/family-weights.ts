/**
 * A Llama-family or GPT-NeoX checkpoint (hub names, nn.Linear [Out, In]) uploaded into the one
 * runtime layout lib/model/block.ts reads (BlockTensors: every matrix [In, Out]). Done on the
 * host, once, per tensor:
 *   q_proj | k_proj | v_proj       → wQkv [D, (H + 2 Hkv) E]   (one matMul instead of three)
 *   NeoX query_key_value           → wQkv, its per-head [H, 3, E] rows reordered to [3, H, E]
 *   o_proj / dense                 → wO [H·E, D]
 *   gate_proj, up_proj / h_to_4h   → wIn, wUp [D, M]
 *   down_proj / dense_4h_to_h      → wOut [M, D]
 * Biases the checkpoint lacks are zeros (BlockTensors' note). A tied model keeps one copy of
 * its embedding (headT, gathered by columns for the embedding).
 */
import * as tf from "@tensorflow/tfjs";
import { LLAMA_NAMES, NEOX_NAMES } from "../load/family-checkpoint";
import type { ModelConfig } from "../load/model-config";
import { attnDims, familyOf, isTied } from "../load/model-config";
import type { HostTensor } from "../load/types";
import { ModelError } from "./errors";
import type { BlockTensors } from "./gpt2-types";
import type { UploadedWeights } from "./gpt2-weights";

/**
 * nn.Linear weights [Out_i, In] side by side, transposed: [In, Σ Out_i]. `rowOf(o)` maps an
 * output feature of the result to its row in the (concatenated) inputs (NeoX's reorder).
 */
function transposed(parts: HostTensor[], rowOf?: (o: number) => number): Float32Array {
  const In = parts[0].shape[1];
  const rows: { data: Float32Array; r: number }[] = [];
  for (const p of parts) for (let r = 0; r < p.shape[0]; r++) rows.push({ data: p.data, r });
  const Out = rows.length;
  const out = new Float32Array(In * Out);
  for (let o = 0; o < Out; o++) {
    const { data, r } = rows[rowOf ? rowOf(o) : o];
    for (let i = 0; i < In; i++) out[i * Out + o] = data[r * In + i];
  }
  return out;
}

/** Uploads a checkpoint read by lib/load/family-checkpoint.ts (shapes already checked there). */
export function uploadHubWeights(c: ModelConfig, hub: Map<string, HostTensor>): UploadedWeights {
  const { H, Hkv, E } = attnDims(c);
  const { dModel: D, dMlp: M, vocabSize: V } = c;
  const neox = familyOf(c) === "gpt_neox";
  const names = neox ? NEOX_NAMES : LLAMA_NAMES;
  const made: tf.Tensor[] = [];
  let n = 0;
  const get = (name: string): HostTensor => {
    const t = hub.get(name);
    if (!t) throw new ModelError("bad_weights", `tensor ${name} is missing`);
    return t;
  };
  const keep = <R extends tf.Tensor>(t: R, counted = t.size): R => {
    made.push(tf.keep(t));
    n += counted;
    return t;
  };
  const vec = (data: Float32Array | number, len: number): tf.Tensor1D =>
    typeof data === "number"
      ? keep(tf.zeros([len]) as tf.Tensor1D, 0) // a bias the checkpoint lacks: no parameters
      : keep(tf.tensor1d(data));
  const opt = (name: string, len: number) =>
    hub.has(name) ? vec(get(name).data, len) : vec(0, len);
  const mat = (parts: string[], rowOf?: (o: number) => number): tf.Tensor2D => {
    const hs = parts.map(get);
    const out = hs.reduce((a, h) => a + h.shape[0], 0);
    return keep(tf.tensor2d(transposed(hs, rowOf), [hs[0].shape[1], out]));
  };
  try {
    const blocks = Array.from({ length: c.nLayer }, (_, l): BlockTensors => {
      const p = names.layer(l);
      const ln = (which: string) => ({
        g: vec(get(`${p}${which}.weight`).data, D),
        b: neox ? vec(get(`${p}${which}.bias`).data, D) : undefined,
      });
      const ln1 = ln("input_layernorm");
      const ln2 = ln("post_attention_layernorm");
      if (neox) {
        const qkv = `${p}attention.query_key_value`;
        // result feature (part j ∈ q,k,v; head h; e) ← checkpoint row (h, j, e)
        const perHead = (o: number) => {
          const j = Math.floor(o / (H * E));
          const h = Math.floor((o % (H * E)) / E);
          return (h * 3 + j) * E + (o % E);
        };
        const b = hub.get(`${qkv}.bias`);
        return {
          ln1g: ln1.g,
          ln1b: ln1.b,
          wQkv: mat([`${qkv}.weight`], perHead),
          bQkv: b
            ? vec(
                Float32Array.from({ length: 3 * D }, (_, o) => b.data[perHead(o)]),
                3 * D,
              )
            : vec(0, 3 * D),
          wO: mat([`${p}attention.dense.weight`]),
          bO: opt(`${p}attention.dense.bias`, D),
          ln2g: ln2.g,
          ln2b: ln2.b,
          wIn: mat([`${p}mlp.dense_h_to_4h.weight`]),
          bIn: opt(`${p}mlp.dense_h_to_4h.bias`, M),
          wOut: mat([`${p}mlp.dense_4h_to_h.weight`]),
          bOut: opt(`${p}mlp.dense_4h_to_h.bias`, D),
        };
      }
      const a = `${p}self_attn.`;
      const qkvBias = ["q_proj", "k_proj", "v_proj"].map((x) => hub.get(`${a}${x}.bias`));
      const Q = (H + 2 * Hkv) * E;
      const bQkv = qkvBias.every((b) => b)
        ? vec(Float32Array.from(qkvBias.flatMap((b) => [...b!.data])), Q)
        : vec(0, Q);
      return {
        ln1g: ln1.g,
        wQkv: mat([`${a}q_proj.weight`, `${a}k_proj.weight`, `${a}v_proj.weight`]),
        bQkv,
        wO: mat([`${a}o_proj.weight`]),
        bO: opt(`${a}o_proj.bias`, D),
        ln2g: ln2.g,
        wIn: mat([`${p}mlp.gate_proj.weight`]),
        bIn: vec(0, M),
        wUp: mat([`${p}mlp.up_proj.weight`]),
        wOut: mat([`${p}mlp.down_proj.weight`]),
        bOut: vec(0, D),
      };
    });
    const embed = get(names.embed); // [V, D]
    const headT = mat([isTied(c) ? names.embed : names.head]); // [D, V]
    const wte = isTied(c) ? undefined : keep(tf.tensor2d(embed.data, [V, D]));
    const lnFg = vec(get(`${names.norm}.weight`).data, D);
    const lnFb = neox ? vec(get(`${names.norm}.bias`).data, D) : undefined;
    return { headT, wte, blocks, lnFg, lnFb, nParams: n };
  } catch (e) {
    tf.dispose(made); // a failure part-way must not leak what was already uploaded
    throw e;
  }
}
