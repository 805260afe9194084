/**
 * The ROME form's checks and recipe, apart from React so they can be unit tested: the prompt
 * template is the trace's prompt with the subject replaced by "{}", and every mistake has its
 * own message (no subject in the prompt, empty target, …).
 */
import { COV_SOURCES, type CovSource, type RomeEdit } from "../../lib/edit/types";
import { inRange, paramError } from "../../lib/params/schema";
import { EDIT_PARAMS } from "../../lib/params/table";

export interface RomeDraft {
  prompt: string;
  subject: string;
  targetNew: string;
  layer: number | null;
  cov: CovSource;
  shrinkage: number | null;
  steps: number | null;
}

/** The prompt with the subject's first occurrence replaced by "{}", or null without it. */
export function romeTemplate(prompt: string, subject: string): string | null {
  const s = subject.trim();
  if (s === "") return null;
  const at = prompt.indexOf(s);
  return at < 0 ? null : `${prompt.slice(0, at)}{}${prompt.slice(at + s.length)}`;
}

/** The recipe, or the first thing wrong with the draft. */
export function romeRecipe(
  d: RomeDraft,
  nLayer: number | null,
  /** False when the model has no dataset.json (./model-dataset.ts): only C = identity works. */
  hasDataset = true,
): { edit: RomeEdit } | { error: string } {
  if (d.prompt.trim() === "") return { error: "The prompt is empty: type a prompt to edit." };
  if (d.subject.trim() === "") {
    return { error: "Type the subject whose fact ROME rewrites (e.g. a name in the prompt)." };
  }
  const template = romeTemplate(d.prompt, d.subject);
  if (template === null) {
    return {
      error: `The subject "${d.subject.trim()}" is not in the prompt: ROME needs the subject in the prompt it rewrites.`,
    };
  }
  if (template.trim() === "{}") {
    return { error: "The prompt is only the subject: it needs the relation after it too." };
  }
  if (d.targetNew.trim() === "") {
    return { error: "Type the new target: the object the prompt should now complete with." };
  }
  if (
    nLayer !== null &&
    (d.layer === null || !Number.isInteger(d.layer) || d.layer < 0 || d.layer >= nLayer)
  ) {
    return { error: `The layer must be a whole number from 0 to ${nLayer - 1}.` };
  }
  if (!COV_SOURCES.includes(d.cov)) return { error: `Unknown C source ${d.cov}.` };
  if (!hasDataset && d.cov !== "identity") {
    return {
      error:
        "C from general text needs the model's dataset.json, which this model does not have: choose identity.",
    };
  }
  const shrinkageError = d.cov !== "identity" && paramError(EDIT_PARAMS.shrinkage, d.shrinkage);
  if (shrinkageError) return { error: `${shrinkageError}.` };
  const steps = d.steps;
  if (!inRange(EDIT_PARAMS.romeSteps, steps)) {
    return { error: `${paramError(EDIT_PARAMS.romeSteps, steps)}.` };
  }
  return {
    edit: {
      kind: "rome",
      site: d.layer === null ? {} : { layer: d.layer },
      params: {
        prompt: template,
        subject: d.subject.trim(),
        target_new: d.targetNew.trim(),
        cov: d.cov,
        ...(d.cov !== "identity" ? { shrinkage: d.shrinkage ?? 0 } : {}),
        steps,
      },
    },
  };
}
