/**
 * The editing methods a batch or sequential run can use, by name (`causeway edit --method`,
 * `--compare`). Each turns a batch of requested rewrites into edits on the model as it is now
 * (the original model, or the one edited by the batches before in sequential mode).
 *
 *   rome    ROME has no batch form: the batch's requests are edited one after another, each on
 *           the model with the edits before it (as the MEMIT paper runs its ROME baseline).
 *
 * Methods that this build does not have are refused by name, before any work starts.
 */
import type { Gpt2Model } from "../model/gpt2";
import type { TextTokenizer } from "../util/tokenizer";
import { applyEdits } from "./apply";
import { type CancelSignal, checkLearningCancelled } from "./cancel";
import type { EditDataset } from "./dataset";
import type { EditRequest } from "./eval-cases";
import { computeRome, type RomeStep } from "./rome";
import { type Edit, EditError, type RomeEdit } from "./types";

export const METHOD_NAMES = [
  "rome",
  "memit",
  "pmet",
  "alphaedit",
  "memit+blue",
  "pmet+blue",
] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface BatchEditArgs {
  /** The model as edited so far (the base model plus `before`). */
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
}

function romeEditor(o: MethodOptions): BatchEditor {
  return {
    name: "rome",
    async edit(a) {
      const out: Edit[] = [];
      for (const [i, r] of a.requests.entries()) {
        await checkLearningCancelled(a.signal);
        const recipe: RomeEdit = {
          kind: "rome",
          id: `rome-case-${r.case_id}`,
          site: o.layer === undefined ? {} : { layer: o.layer },
          params: {
            prompt: r.prompt,
            subject: r.subject,
            target_new: r.target_new,
            ...(r.target_true !== undefined ? { target_true: r.target_true } : {}),
            case_id: r.case_id,
            ...o.romeParams,
          },
        };
        const now = applyEdits(a.base, [...a.before, ...out]);
        try {
          const c = await computeRome(now.isIdentity ? a.base : now, a.tok, recipe, {
            dataset: a.dataset,
            signal: a.signal,
            onStep: (s: RomeStep) => a.onStep?.(i, { step: s.step, steps: s.steps, loss: s.loss }),
          });
          out.push(c.edit);
        } finally {
          now.dispose();
        }
      }
      return out;
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
  if (name === "rome") return romeEditor(o);
  throw new EditError(
    "bad_edit",
    `editing method "${name}" is not available in this build yet (available: rome)`,
  );
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
