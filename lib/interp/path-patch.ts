/**
 * Path patching from one sender head to receiver heads (Wang et al. 2022, "Interpretability in
 * the Wild", §3.1 / Appendix B; TransformerLens–ARENA's "head → heads" path_patch): how much of
 * the corrupted prompt's effect travels from the sender straight into the receivers' inputs.
 *
 *   const r = await runPathPatch(engine, {
 *     clean: "…", corrupt: "…", target: " Parrow", foil: " Belkor",
 *     sender: { layer: 1, head: 1 }, receivers: [{ layer: 3, head: 0 }], inputs: ["q", "k", "v"],
 *   });
 *   r.scores[l][h]   // sender → head (l, h) alone; NaN for layers ≤ the sender's
 *   r.joint          // sender → all the receivers together (null without receivers)
 *   // the joint effect of a receiver set only (no grid: every score NaN)
 *   await runPathPatch(engine, { ...spec, receivers: [{ layer: 3, head: 1 }, { layer: 4, head: 0 }], perHead: false });
 *
 *   1. clean and corrupted runs: every head's z (attn.hook_z) on the clean run, the sender's on
 *      the corrupted run;
 *   2. the clean prompt with the sender's z from the corrupted run and every other head's z after
 *      the sender's layer frozen at clean (MLPs recomputed); the receivers' inputs (attn.hook_q /
 *      hook_k / hook_v: `inputs`) are kept;
 *   3. the clean prompt with only those receiver inputs replaced by step 2's values.
 * Effect = (LD₃ − LD_clean) / (LD_clean − LD_corrupt), LD = logit[target] − logit[foil] at the
 * last position: 0 when the path carries nothing, −1 when it carries the whole corrupted change.
 * Under grouped-query attention a receiver's K/V head is shared by its group, and is patched for
 * all of them. Checked against scripts/reference/path_patch_ref.py (numpy).
 */
import * as tf from "@tensorflow/tfjs";
import { attnDims } from "../load/model-config";
import type { ModelIntervention } from "../model/gpt2";
import { blockHook } from "../model/hooks";
import { now } from "../util/clock";
import { type CancelSignal, nextTick, throwIfCancelled } from "./cancel";
import { patchPair } from "./patch";
import { type PatchSpec, TraceError } from "./spec";
import { type TraceHost, tokenText, tokenTexts } from "./tokens";

export type ReceiverInput = "q" | "k" | "v";
export const RECEIVER_INPUTS: readonly ReceiverInput[] = ["q", "k", "v"];
const INPUT_HOOK = { q: "attn.hook_q", k: "attn.hook_k", v: "attn.hook_v" } as const;

export interface HeadRef {
  layer: number;
  head: number;
}

export interface PathPatchSpec extends Pick<PatchSpec, "clean" | "corrupt" | "target" | "foil"> {
  sender: HeadRef;
  /** Heads patched together for `joint` (each in a layer after the sender's). */
  receivers?: HeadRef[];
  /** The receivers' inputs that carry the path (default q, k and v). */
  inputs?: ReceiverInput[];
  /**
   * Sweep every later head alone (the grid; default true). False: only the receivers' joint
   * effect (3 + 1 passes), e.g. for a new receiver set beside a grid already on screen.
   */
  perHead?: boolean;
}

export interface PathPatchOptions {
  /** After the clean and corrupted runs, before any receiver. */
  onBaseline?: (b: { clean_logit_diff: number; corrupt_logit_diff: number }) => void;
  /** One receiver layer done: index = layer, values[h]. */
  onRow?: (row: { index: number; values: Float32Array }) => void;
  onProgress?: (p: { done: number; total: number }) => void;
  signal?: CancelSignal;
}

export interface PathPatchResult {
  clean_ids: number[];
  corrupt_ids: number[];
  clean_tokens: string[];
  corrupt_tokens: string[];
  target: { id: number; token: string };
  foil: { id: number; token: string };
  sender: HeadRef;
  inputs: ReceiverInput[];
  receivers: HeadRef[];
  clean_logit_diff: number;
  corrupt_logit_diff: number;
  /** [L][H]: (LD − LD_clean) / (LD_clean − LD_corrupt) of sender → that head; NaN up to the sender's layer. */
  scores: number[][];
  /** The receivers patched together; null without receivers. */
  joint: number | null;
  n_layer: number;
  n_head: number;
  /** Forward passes × rows run. */
  evaluations: number;
  ms: number;
}

const isIndex = (x: unknown, n: number): x is number =>
  typeof x === "number" && Number.isInteger(x) && x >= 0 && x < n;

function checkHead(h: unknown, what: string, L: number, H: number): HeadRef {
  const r = h as HeadRef;
  if (typeof h !== "object" || h === null || !isIndex(r.layer, L) || !isIndex(r.head, H)) {
    throw new TraceError(
      "bad_spec",
      `${what} must be a head {layer 0–${L - 1}, head 0–${H - 1}}, got ${JSON.stringify(h)}`,
    );
  }
  return { layer: r.layer, head: r.head };
}

/** The spec's sender, receivers and inputs, checked against the model's shape. */
export function checkPathSpec(
  spec: Pick<PathPatchSpec, "sender" | "receivers" | "inputs" | "perHead">,
  L: number,
  H: number,
): { sender: HeadRef; receivers: HeadRef[]; inputs: ReceiverInput[]; perHead: boolean } {
  const sender = checkHead(spec.sender, "the sender", L, H);
  if (sender.layer >= L - 1) {
    throw new TraceError(
      "bad_spec",
      `the sender is in the last layer (${sender.layer}): no head reads its output`,
    );
  }
  const receivers: HeadRef[] = [];
  for (const r of spec.receivers ?? []) {
    const h = checkHead(r, "a receiver", L, H);
    if (h.layer <= sender.layer) {
      throw new TraceError(
        "bad_spec",
        `receiver L${h.layer}H${h.head} is not after the sender's layer ${sender.layer}`,
      );
    }
    if (receivers.some((x) => x.layer === h.layer && x.head === h.head)) {
      throw new TraceError("bad_spec", `receiver L${h.layer}H${h.head} is listed twice`);
    }
    receivers.push(h);
  }
  const inputs = spec.inputs ?? [...RECEIVER_INPUTS];
  if (
    !Array.isArray(inputs) ||
    inputs.length === 0 ||
    inputs.some((x) => !RECEIVER_INPUTS.includes(x)) ||
    new Set(inputs).size !== inputs.length
  ) {
    throw new TraceError(
      "bad_spec",
      `inputs must list one or more of q, k, v once each, got ${JSON.stringify(inputs)}`,
    );
  }
  const perHead = spec.perHead ?? true;
  if (typeof perHead !== "boolean") {
    throw new TraceError(
      "bad_spec",
      `perHead must be true or false, got ${JSON.stringify(perHead)}`,
    );
  }
  if (!perHead && receivers.length === 0) {
    throw new TraceError("bad_spec", "pick one or more receiver heads for their joint effect");
  }
  return {
    sender,
    receivers,
    inputs: RECEIVER_INPUTS.filter((x) => inputs.includes(x)),
    perHead,
  };
}

/** LD at the last position of each row: [B]. */
async function lastLogitDiff(logits: tf.Tensor3D, target: number, foil: number) {
  const d = tf.tidy(() => {
    const last = logits.slice([0, logits.shape[1] - 1, 0], [-1, 1, -1]); // [B, 1, V]
    return last
      .gather([target], 2)
      .sub(last.gather([foil], 2))
      .reshape([-1]); // [B]
  });
  try {
    return Array.from(await d.data());
  } finally {
    d.dispose();
  }
}

export async function runPathPatch(
  host: TraceHost,
  spec: PathPatchSpec,
  options: PathPatchOptions = {},
): Promise<PathPatchResult> {
  const started = now();
  const { model } = host;
  const { nLayer: L } = model.config;
  const { H, Hkv } = attnDims(model.config);
  const { sender, receivers, inputs, perHead } = checkPathSpec(spec, L, H);
  const { clean, corrupt, target, foil } = patchPair(host, spec);
  const T = clean.length;
  // the K/V head a query head reads (grouped-query attention shares one per group)
  const inputHead = (input: ReceiverInput, h: number) =>
    input === "q" ? h : Math.floor(h / (H / Hkv));
  const zHook = (l: number) => blockHook(l, "attn.hook_z");
  const inputHooks = (l: number) => inputs.map((i) => blockHook(l, INPUT_HOOK[i]));
  const later = Array.from({ length: L - sender.layer - 1 }, (_, i) => sender.layer + 1 + i);
  const swept = perHead ? later : [];
  const total = 3 + swept.length * H + (receivers.length > 0 ? 1 : 0);
  let evaluations = 0;
  const held: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    held.push(t);
    return t;
  };
  const run = (rows: number, interventions: ModelIntervention[], record: string[] = []) => {
    const r = model.forward({
      inputIds: Array.from({ length: rows }, () => clean),
      interventions,
      record,
      logitPositions: "last",
    });
    evaluations += rows;
    return r;
  };
  try {
    // 1. clean (every z) and corrupted (the sender's z)
    const cleanRun = model.forward({
      inputIds: [clean],
      record: Array.from({ length: L }, (_, l) => zHook(l)),
      logitPositions: "last",
    });
    for (const t of cleanRun.activations.values()) keep(t);
    const ldClean = (await lastLogitDiff(keep(cleanRun.logits), target, foil))[0];
    const corruptRun = model.forward({
      inputIds: [corrupt],
      record: [zHook(sender.layer)],
      logitPositions: "last",
    });
    for (const t of corruptRun.activations.values()) keep(t);
    const ldCorrupt = (await lastLogitDiff(keep(corruptRun.logits), target, foil))[0];
    evaluations += 2;
    const denom = ldClean - ldCorrupt;
    if (denom === 0) {
      throw new TraceError(
        "bad_target",
        "the clean and corrupted runs give the same logit difference, so the path effect is undefined",
      );
    }
    options.onBaseline?.({ clean_logit_diff: ldClean, corrupt_logit_diff: ldCorrupt });
    options.onProgress?.({ done: 2, total });
    throwIfCancelled(options.signal);

    // 2. the sender from the corrupted run, every later head's z frozen at clean
    const senderZ = keep(
      tf.tidy(() =>
        (corruptRun.activations.get(zHook(sender.layer)) as tf.Tensor4D).slice(
          [0, 0, sender.head, 0],
          [1, T, 1, -1],
        ),
      ),
    ); // [1, T, 1, E]
    const freeze: ModelIntervention[] = [
      { hook: zHook(sender.layer), op: "replace", heads: [sender.head], value: senderZ },
      ...later.map(
        (l): ModelIntervention => ({
          hook: zHook(l),
          op: "replace",
          value: cleanRun.activations.get(zHook(l)) as tf.Tensor, // [1, T, H, E]
        }),
      ),
    ];
    // the receivers' inputs of every layer read later (the grid), or of the set's layers only
    const read = perHead ? later : [...new Set(receivers.map((x) => x.layer))];
    const step2 = run(1, freeze, read.flatMap(inputHooks));
    keep(step2.logits);
    for (const t of step2.activations.values()) keep(t);
    options.onProgress?.({ done: 3, total });
    throwIfCancelled(options.signal);

    /** Interventions putting step 2's inputs of `heads` (one layer) into batch row `row`. */
    const receive = (layer: number, heads: number[], row?: number) =>
      inputs.map((input): ModelIntervention => {
        const hook = blockHook(layer, INPUT_HOOK[input]);
        const idx = [...new Set(heads.map((h) => inputHead(input, h)))];
        const act = step2.activations.get(hook) as tf.Tensor4D; // [1, T, H or Hkv, E]
        return {
          hook,
          op: "replace",
          ...(row !== undefined ? { batchIndex: [row] } : {}),
          heads: idx,
          value: keep(tf.tidy(() => act.gather(idx, 2))), // [1, T, Hs, E]
        };
      });

    // 3. each later layer's heads as receivers, one batch row per head
    const scores: number[][] = Array.from({ length: L }, () => new Array(H).fill(Number.NaN));
    for (const l of swept) {
      const ivs = Array.from({ length: H }, (_, h) => receive(l, [h], h)).flat();
      const r = run(H, ivs);
      const ld = await lastLogitDiff(keep(r.logits), target, foil);
      scores[l] = ld.map((x) => (x - ldClean) / denom);
      options.onRow?.({ index: l, values: Float32Array.from(scores[l]) });
      options.onProgress?.({ done: 3 + (l - sender.layer) * H, total });
      throwIfCancelled(options.signal);
      await nextTick();
    }
    let joint: number | null = null;
    if (receivers.length > 0) {
      const layers = [...new Set(receivers.map((r) => r.layer))];
      const ivs = layers.flatMap((l) =>
        receive(
          l,
          receivers.filter((r) => r.layer === l).map((r) => r.head),
        ),
      );
      const r = run(1, ivs);
      joint = ((await lastLogitDiff(keep(r.logits), target, foil))[0] - ldClean) / denom;
      options.onProgress?.({ done: total, total });
    }
    return {
      clean_ids: clean,
      corrupt_ids: corrupt,
      clean_tokens: tokenTexts(host, clean),
      corrupt_tokens: tokenTexts(host, corrupt),
      target: { id: target, token: tokenText(host, target) },
      foil: { id: foil, token: tokenText(host, foil) },
      sender,
      inputs,
      receivers,
      clean_logit_diff: ldClean,
      corrupt_logit_diff: ldCorrupt,
      scores,
      joint,
      n_layer: L,
      n_head: H,
      evaluations,
      ms: now() - started,
    };
  } finally {
    tf.dispose(held);
  }
}
