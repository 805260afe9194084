/**
 * An edit stack applied to a loaded model, without touching its weights: the weight patches of
 * the stack's plan (lib/edit/plan.ts) become new tensors W + ΣΔ in a view of the model
 * (Gpt2Model.withOverrides, every other tensor shared), and its intervention edits become
 * interventions that the view adds to every pass. Disabling or removing an edit and applying
 * the stack again gives the original tensors back, so the original numbers come back exactly.
 *
 *   const edited = applyEdits(model, edits);
 *   const view = edited.view(ids.length);         // for one prompt length: predict, trace, …
 *   const { logits } = edited.forward({ inputIds: [ids] });
 *   edited.dispose();                              // frees only the edited weights
 *
 * Intervention edits at the "last" position depend on the pass's length, hence view(T) (all
 * rows of length T) and view([T₀, T₁, …]) (a right-padded batch: each row's own last position).
 */
import * as tf from "@tensorflow/tfjs";
import type { Gpt2Config } from "../load/types";
import type { BlockWeightName, ForwardRequest, ForwardResult, Gpt2Model } from "../model/gpt2";
import type { ModelIntervention } from "../model/hook-plan";
import { editDims } from "./family-sites";
import { type EditPlan, mapInterventions, planEdits, type WeightPatch } from "./plan";
import type { Edit } from "./types";

export interface ApplyOptions {
  /** Fold intervention edits at every position into weights (ITI's bias form). Default false. */
  fold?: boolean;
}

export interface EditedModel {
  /** The model the edits were applied to (never changed). */
  readonly base: Gpt2Model;
  readonly config: Gpt2Config;
  readonly plan: EditPlan;
  /** The model with the weight edits only (the base itself when there are none). */
  readonly weights: Gpt2Model;
  /** True when nothing is changed (no enabled edit). */
  readonly isIdentity: boolean;
  /** The intervention edits' interventions for a pass of T positions, or a padded batch. */
  interventions(lengths: number | readonly number[]): ModelIntervention[];
  /** The edited model for passes of T positions (or a right-padded batch of these lengths). */
  view(lengths: number | readonly number[]): Gpt2Model;
  /** forward() of the edited model (rows all of one length). */
  forward(req: ForwardRequest): ForwardResult;
  /** Frees the edited weights (the base model is untouched). */
  dispose(): void;
}

/** Anything lib/edit runs on: a plain model or an edited one. */
export type ModelLike = Gpt2Model | EditedModel;

export function isEdited(m: ModelLike): m is EditedModel {
  return (m as EditedModel).view !== undefined && (m as EditedModel).plan !== undefined;
}

/** The model for a pass with these row lengths. */
export function viewOf(m: ModelLike, lengths: number | readonly number[]): Gpt2Model {
  return isEdited(m) ? m.view(lengths) : m;
}

export function baseOf(m: ModelLike): Gpt2Model {
  return isEdited(m) ? m.base : m;
}

/**
 * A delta [in, n] of columns colOffset … colOffset + n − 1 of `w` [in, out] as a full-width
 * delta (a q/k/v part of the fused wQkv); the delta itself when it spans w.
 */
export function padColumns(
  delta: tf.Tensor,
  colOffset: number | undefined,
  w: tf.Tensor,
): tf.Tensor {
  const off = colOffset ?? 0;
  const [n, out] = [delta.shape[1]!, w.shape[1]!];
  return off === 0 && n === out
    ? delta
    : tf.pad(delta, [
        [0, 0],
        [off, out - off - n],
      ]);
}

/** Device tensors of the patches: new weights W′ for the (layer, name) pairs they change. */
function patchTensors(
  model: Gpt2Model,
  patches: readonly WeightPatch[],
): { layer: number; name: BlockWeightName; value: tf.Tensor }[] {
  const { nHead, headDim: E } = editDims(model.config);
  const HE = nHead * E;
  const out = new Map<string, { layer: number; name: BlockWeightName; value: tf.Tensor }>();
  const current = (layer: number, name: BlockWeightName) =>
    out.get(`${layer}:${name}`)?.value ?? model.blockWeight(layer, name);
  const set = (layer: number, name: BlockWeightName, value: tf.Tensor) => {
    const k = `${layer}:${name}`;
    const old = out.get(k)?.value;
    out.set(k, { layer, name, value: tf.keep(value) });
    old?.dispose();
  };
  for (const p of patches) {
    tf.tidy(() => {
      if (p.type === "rank_one") {
        const u = tf.tensor2d(p.u, [p.u.length, 1]);
        const v = tf.tensor2d(p.v, [1, p.v.length]);
        set(p.layer, "wOut", current(p.layer, "wOut").add(tf.matMul(u, v))); // [M, D]
      } else if (p.type === "low_rank") {
        const a = tf.tensor2d(p.a, [p.a.length / p.rank, p.rank]); // [in, r]
        const b = tf.tensor2d(p.b, [p.rank, p.b.length / p.rank]); // [r, out part]
        const w = current(p.layer, p.name); // [in, out]
        set(p.layer, p.name, w.add(padColumns(tf.matMul(a, b).mul(p.scale), p.colOffset, w)));
      } else if (p.type === "bias") {
        set(p.layer, p.name, current(p.layer, p.name).add(tf.tensor1d(p.vec)));
      } else {
        const wO = current(p.layer, "wO") as tf.Tensor2D; // [H·E, D], rows = heads' z
        const rowScale = new Float32Array(HE);
        const add = new Float32Array(HE);
        let anyAdd = false;
        for (let h = 0; h < nHead; h++) {
          rowScale.fill(p.scale[h], h * E, (h + 1) * E);
          const a = p.add[h];
          if (a) {
            anyAdd = true;
            add.set(a, h * E);
          }
        }
        if (anyAdd) {
          const shift = tf.matMul(tf.tensor2d(add, [1, HE]), wO).reshape([-1]); // a·W_O [D]
          set(p.layer, "bO", current(p.layer, "bO").add(shift));
        }
        set(p.layer, "wO", wO.mul(tf.tensor2d(rowScale, [HE, 1])));
      }
    });
  }
  return [...out.values()];
}

export function applyEdits(
  model: Gpt2Model,
  edits: readonly Edit[],
  opts: ApplyOptions = {},
): EditedModel {
  const plan = planEdits(edits, model.config, opts);
  const overrides = patchTensors(model, plan.patches);
  const weights = overrides.length > 0 ? model.withOverrides({ weights: overrides }) : model;
  const isIdentity = plan.edits.length === 0;
  const cache = new Map<string, Gpt2Model>();
  const interventions = (lengths: number | readonly number[]) =>
    mapInterventions(plan.maps, lengths);
  const view = (lengths: number | readonly number[]): Gpt2Model => {
    if (plan.maps.length === 0) return weights;
    const k = typeof lengths === "number" ? `${lengths}` : lengths.join(",");
    let v = cache.get(k);
    if (!v) {
      v = weights.withOverrides({ interventions: interventions(lengths) });
      if (cache.size > 256) cache.clear();
      cache.set(k, v);
    }
    return v;
  };
  let disposed = false;
  return {
    base: model,
    config: model.config,
    plan,
    weights,
    isIdentity,
    interventions,
    view,
    forward(req) {
      const T = req.inputIds[0]?.length ?? 0;
      return view(T).forward(req);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      cache.clear();
      tf.dispose(overrides.map((o) => o.value));
    },
  };
}
