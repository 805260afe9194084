/** The edit stack's slice and the edit tools' (evaluation, head probe, α curve, edit form). */
import type { Edit, EditEval, PromptSet } from "../edit/types";
import type { AlphaPoint, EditEvalResult } from "../protocol";
import type { Progress, UiError } from "./common-types";
import type { Context } from "./context";

/**
 * The edit requests and the stack's status when a load started from a ready model. The worker
 * frees its stack only once the new model's download is done (workers/load.ts), so a failed or
 * cancelled download leaves the previous model with its stack applied: edits-slice
 * restoreEditsAfterCancel brings this back and sends the stack again where they may differ.
 */
export interface EditsBeforeLoad {
  requests: Context["edits"];
  status: EditsSlice["edits"]["status"];
  error: EditsSlice["edits"]["error"];
}

export type EditsStatus = "idle" | "learning" | "ready" | "error";

export interface EditProgress {
  /** Index in the stack of the edit being learned. */
  index: number;
  phase: string;
  step: number;
  total: number;
  loss?: number;
  /** ROME: the new object's probability at this step. */
  pNew?: number;
}

export interface EditsSlice {
  edits: {
    /** The edit stack, in order; every edit has a unique id. */
    stack: Edit[];
    /** Earlier stacks, most recent last: undo pops one. */
    history: Edit[][];
    /** Stacks undone, most recent last: redo pops one; any other change empties it. */
    future: Edit[][];
    status: EditsStatus;
    progress: EditProgress | null;
    /** The loss curve of the edit being learned so far (ROME: with p_new). */
    curve: { step: number; loss: number; pNew?: number }[];
    error: UiError | null;
  };
  /** Adds a recipe or learned edit; the worker learns what is missing. */
  addEdit(edit: Edit): void;
  toggleEdit(id: string): void;
  moveEdit(id: string, delta: -1 | 1): void;
  removeEdit(id: string): void;
  /** Restores the stack before the last change. */
  undoEdits(): void;
  /** Restores the stack the last undo left, exactly (learned edits are not relearned). */
  redoEdits(): void;
  /**
   * Stops the learning in flight: the stack goes back to the one the worker has applied (the
   * change that triggered learning is undone), with no error; nothing to do when not learning.
   */
  cancelLearning(): void;
  /** Replaces the whole stack (e.g. from a share link); learns what is missing. */
  setEditStack(edits: Edit[]): void;
}

export interface EditEvalState {
  status: "idle" | "running" | "ok" | "error" | "cancelled";
  index: number | null;
  progress: Progress | null;
  result: EditEvalResult | null;
  error: UiError | null;
}

export interface HeadProbeState {
  status: "idle" | "running" | "ok" | "error";
  accuracy: number[][] | null;
  nPositive: number;
  nNegative: number;
  error: UiError | null;
}

/** The edit form open in the edit panel: the clicked site and the trace's prompt and subject. */
export interface EditFormState {
  /** components/edit-forms/registry.ts id. */
  form: string;
  site: { layer?: number; position?: number; head?: number; kind?: EditSiteKind };
  prompt: string;
  subject?: string;
}

export type EditSiteKind = "hidden" | "mlp" | "attn" | "head";

export interface AlphaCurveState {
  status: "idle" | "running" | "ok" | "error";
  points: AlphaPoint[] | null;
  error: UiError | null;
}

export interface EditToolsSlice {
  editEval: EditEvalState;
  headProbe: HeadProbeState;
  alphaCurve: AlphaCurveState;
  /** Learns a steering recipe on the edited model and scores it for each α. */
  runAlphaCurve(edit: Edit, alphas: number[], ev: EditEval): void;
  editForm: EditFormState | null;
  openEditForm(form: EditFormState): void;
  closeEditForm(): void;
  /** Scores the ROME edit at `index` of the stack (CounterFact measures, general-text loss). */
  evalEdit(index: number): void;
  cancelEval(): void;
  probeHeads(positive: PromptSet, negative: PromptSet): void;
}
