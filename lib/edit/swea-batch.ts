/**
 * SWEA through the batch entry point (lib/edit/batch-edit.ts applyBatchEdit, `causeway edit
 * --method swea`, `--compare …,swea`): one swea edit holding every request's fusion.
 */
import type { BatchEditOptions } from "./batch-edit";
import { parseEdit } from "./parse";
import { learnSwea } from "./swea";
import { SWEA_HPARAM_NAMES } from "./swea-params";
import { EditError, type SweaEdit, type SweaHparams } from "./types";

export function sweaBatchEdit(o: BatchEditOptions): Promise<SweaEdit> {
  if (o.blue)
    throw new EditError("bad_edit", "BLUE is a switch of the weight editors, not of swea");
  if (o.layers) {
    throw new EditError(
      "bad_edit",
      "swea edits no layer (it alters the subject's token embeddings): leave out --layers",
    );
  }
  const given = (o.hparams ?? {}) as Record<string, unknown>;
  const hp = Object.fromEntries(
    SWEA_HPARAM_NAMES.filter((k) => given[k] !== undefined).map((k) => [k, given[k]]),
  ) as SweaHparams;
  const edit: SweaEdit = {
    kind: "swea",
    params: { requests: o.requests.map((r) => ({ ...r })), ...hp },
  };
  parseEdit(edit); // the hparams' types and ranges, as an edit file's
  return learnSwea(o.model, o.tok, edit, {
    signal: o.signal,
    onProgress: (p) => o.onProgress?.({ phase: "target", ...p }),
  });
}
