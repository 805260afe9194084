/**
 * The editing methods a batch or sequential run can use, by name (`causeway edit --method`,
 * `--compare`): each turns a batch of requested rewrites into edits on the model as it is now
 * (the original model, or the one edited by the batches before in sequential mode), through
 * the one batch entry point, lib/edit/batch-edit.ts applyBatchEdit. "+blue" switches BLUE on
 * (memit+blue, alphaedit+blue, pmet+blue).
 *
 * Methods that this build does not have are refused by name, before any work starts.
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits } from "./apply";
import { applyBatchEdit, BATCH_METHODS, type BatchMethod } from "./batch-edit";
import type { CancelSignal } from "./cancel";
import type { EditDataset } from "./dataset";
import type { EditRequest } from "./eval-cases";
import { type Edit, EditError, type MemitHparams, type RomeEdit } from "./types";

export const METHOD_NAMES = [
  "rome",
  "memit",
  "pmet",
  "alphaedit",
  "swea",
  "memit+blue",
  "pmet+blue",
  "alphaedit+blue",
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface BatchEditArgs {
  /** The model before any edit; `before` are the edits applied so far (sequential mode). */
  base: Gpt2Model;
  before: readonly Edit[];
  tok: TextTokenizer;
  requests: readonly EditRequest[];
  dataset?: EditDataset;
  signal?: CancelSignal;
  /** One optimisation step of request `index` in the batch. */
  onStep?: (index: number, s: { step: number; steps: number; loss: number }) => void;
}

export interface BatchEditor {
  name: MethodName;
  /** The edits that carry out the batch on top of `before`. */
  edit(a: BatchEditArgs): Promise<Edit[]>;
}

export interface MethodOptions {
  /** ROME parameters over the defaults (e.g. steps, lr). */
  romeParams?: Partial<RomeEdit["params"]>;
  /** The layer ROME edits (default: lib/edit/rome.ts defaultRomeLayer). */
  layer?: number;
  /** MEMIT/AlphaEdit hyper-parameters by their hparams files' names. */
  hparams?: MemitHparams;
  /** The layer range of MEMIT/AlphaEdit/PMET (default per method). */
  layers?: number[];
}

function batchEditor(
  name: MethodName,
  method: BatchMethod,
  blue: boolean,
  o: MethodOptions,
): BatchEditor {
  const layers = method === "rome" ? (o.layer === undefined ? undefined : [o.layer]) : o.layers;
  return {
    name,
    async edit(a) {
      const now = applyEdits(a.base, a.before);
      try {
        const { edits } = await applyBatchEdit({
          model: now.isIdentity ? a.base : now,
          tok: a.tok,
          method,
          ...(blue ? { blue } : {}),
          requests: a.requests.map((r) => ({ ...r })),
          ...(layers ? { layers } : {}),
          ...(method === "rome" ? { romeParams: o.romeParams } : { hparams: o.hparams }),
          dataset: a.dataset,
          signal: a.signal,
          onProgress: (p) => {
            if (p.phase === "target") a.onStep?.(p.request, p);
          },
        });
        return edits;
      } finally {
        now.dispose();
      }
    },
  };
}

/** The editor of a method, or an EditError naming what is available. */
export function editorFor(name: string, o: MethodOptions = {}): BatchEditor {
  if (!(METHOD_NAMES as readonly string[]).includes(name)) {
    throw new EditError(
      "bad_edit",
      `unknown editing method "${name}": give one of ${METHOD_NAMES.join(", ")}`,
    );
  }
  const [method, blue] = name.split("+");
  if (!(BATCH_METHODS as readonly string[]).includes(method)) {
    const have = METHOD_NAMES.filter((m) =>
      (BATCH_METHODS as readonly string[]).includes(m.split("+")[0]),
    );
    throw new EditError(
      "bad_edit",
      `editing method "${name}" is not available in this build yet (available: ${have.join(", ")})`,
    );
  }
  return batchEditor(name as MethodName, method as BatchMethod, blue === "blue", o);
}
/** Parses a comma-separated method list, checking every name before any work. */
export function parseMethods(spec: string, o: MethodOptions = {}): BatchEditor[] {
  const names = spec
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) throw new EditError("bad_edit", "give at least one editing method");
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new EditError("bad_edit", `editing method "${dup}" is named twice`);
  return names.map((n) => editorFor(n, o));
}
