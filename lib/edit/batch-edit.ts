/**
 * The one entry point for editing many facts at once, called by the CLI's evaluation driver
 * and the app: a batch of rewrites (ROME's fields) in, learned edits (stack data) out.
 *
 *   const { edits } = await applyBatchEdit({ model, tok, method: "memit", requests });
 *   stack.push(...edits);                          // then applyEdits(base, stack)
 *
 * Sequential editing: call it again with `model` = applyEdits(base, stack so far); every batch
 * is learned on the model as edited by the batches before (AlphaEdit also reads their keys
 * from that stack). Methods:
 *   rome       one ROME edit per request, each learned on the model with the ones before it
 *   memit      one MEMIT edit over the layer range (lib/edit/memit.ts)
 *   alphaedit  one AlphaEdit edit (MEMIT's targets, the null-space projected update)
 *   pmet       one PMET edit (attention and FFN targets together, FFN-only update: pmet.ts)
 * `blue: true` switches BLUE on for memit, alphaedit and pmet (only the range's first and last layer
 * move, each with its own residual).
 */
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits, baseOf, isEdited, type ModelLike } from "./apply";
import type { BatchMethod } from "./batch-methods";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import type { EditDataset } from "./dataset";
import { type BatchProgress, learnBatch } from "./memit";
import { checkRequests } from "./memit-params";
import { computeRome } from "./rome";
import { sweaBatchEdit } from "./swea-batch";
import {
  type BatchEdit,
  type Edit,
  EditError,
  type MemitHparams,
  type RewriteRequest,
  type RomeEdit,
  type RomeParams,
} from "./types";

export { BATCH_METHODS, type BatchMethod } from "./batch-methods";

export type { BatchProgress };

export interface BatchEditOptions {
  /** The model to edit: plain, or applyEdits(base, stack so far) for sequential editing. */
  model: ModelLike;
  tok: TextTokenizer;
  method: BatchMethod;
  /** BLUE on memit / alphaedit / pmet (refused for rome). */
  blue?: boolean;
  requests: RewriteRequest[];
  /** The MLP layers (memit, alphaedit: a range; rome: the first is its layer). Default per method. */
  layers?: number[];
  /** MEMIT/AlphaEdit hyper-parameters (their hparams files' names). */
  hparams?: MemitHparams;
  /** ROME's settings for method "rome" (steps, lr, cov, …). */
  romeParams?: Partial<Omit<RomeParams, "prompt" | "subject" | "target_new">>;
  /** The model's dataset.json: C's corpus. */
  dataset?: EditDataset;
  onProgress?: (p: BatchProgress) => void;
  signal?: CancelSignal;
}

export interface BatchEditResult {
  /** Learned edits in stack order, ready to push onto the stack (rome: one per request). */
  edits: Edit[];
}

/** Learns one batch; nothing is changed in `model` (the edits are returned as data). */
export async function applyBatchEdit(o: BatchEditOptions): Promise<BatchEditResult> {
  checkRequests(o.requests);
  if (o.method === "rome") return { edits: await romeBatchEdits(o) };
  if (o.method === "swea") return { edits: [await sweaBatchEdit(o)] };
  const edit: BatchEdit = {
    kind: o.method,
    site: o.layers ? { layers: [...o.layers] } : {},
    params: {
      requests: o.requests.map((r) => ({ ...r })),
      ...(o.blue ? { blue: true } : {}),
      ...batchHparams(o.hparams),
    },
  } as BatchEdit;
  const learned = await learnBatch(o.model, o.tok, edit, {
    dataset: o.dataset,
    onProgress: o.onProgress,
    signal: o.signal,
  });
  return { edits: [learned] };
}

/** Only MEMIT's/AlphaEdit's/PMET's own names (ROME's are for method "rome"). */
function batchHparams(h: BatchEditOptions["hparams"]): MemitHparams {
  if (!h) return {};
  const keys: (keyof MemitHparams)[] = [
    "v_num_grad_steps",
    "v_lr",
    "v_weight_decay",
    "clamp_norm_factor",
    "kl_factor",
    "mom2_update_weight",
    "mom2_dataset",
    "mom2_n_samples",
    "mom2_shrinkage",
    "nullspace_threshold",
    "L2",
    "nll_loss_factor",
    "v_loss_layer",
    "context",
  ];
  return Object.fromEntries(keys.filter((k) => h[k] !== undefined).map((k) => [k, h[k]]));
}

/** ROME on each request in turn, each on the model with the ones before applied. */
async function romeBatchEdits(o: BatchEditOptions): Promise<Edit[]> {
  if (o.blue)
    throw new EditError(
      "bad_edit",
      "BLUE is a switch of memit and alphaedit (and pmet), not of rome",
    );
  const base = baseOf(o.model);
  const before = isEdited(o.model) ? o.model.plan.edits : [];
  const out: RomeEdit[] = [];
  for (const [i, r] of o.requests.entries()) {
    await checkLearningCancelled(o.signal);
    const edit: RomeEdit = {
      kind: "rome",
      site: o.layers?.[0] !== undefined ? { layer: o.layers[0] } : {},
      params: { ...(o.romeParams ?? {}), ...r },
    };
    const model = i === 0 ? o.model : applyEdits(base, [...before, ...out]);
    try {
      const done = await computeRome(model, o.tok, edit, {
        dataset: o.dataset,
        signal: o.signal,
        onStep: (s) =>
          o.onProgress?.({
            phase: "target",
            request: i,
            requests: o.requests.length,
            step: s.step,
            steps: s.steps,
            loss: s.loss,
          }),
      });
      out.push(done.edit);
    } finally {
      if (model !== o.model && isEdited(model)) model.dispose();
    }
  }
  return out;
}
