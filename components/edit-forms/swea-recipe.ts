/**
 * The SWEA form's checks and recipe, apart from React so they can be unit tested, and SWEA's
 * settings as the SWEA form and the Batch form both take them (lib/params/swea.ts: SWEA's
 * hparams names, its defaults, the edit parser's ranges). No tfjs here (the page imports it).
 */
import type { SweaEdit, SweaHparams } from "../../lib/edit/types";
import { paramError } from "../../lib/params/schema";
import { SWEA_PARAMS, type SweaParamName } from "../../lib/params/swea";
import { romeTemplate } from "./rome-recipe";

export const SWEA_PARAM_NAMES = Object.keys(SWEA_PARAMS) as SweaParamName[];

export interface SweaSettings {
  /** SWEA's hyper-parameters by name; null: a blank box. */
  values: Record<SweaParamName, number | null>;
  /** SWEA⊕OS (optimise, then suppress the knowledge dimensions), else optimise only. */
  suppress: boolean;
}

export function defaultSweaSettings(): SweaSettings {
  const values = Object.fromEntries(
    SWEA_PARAM_NAMES.map((k) => [k, SWEA_PARAMS[k].default]),
  ) as SweaSettings["values"];
  return { values, suppress: true };
}

/** The settings as SWEA's hparams, or the first one out of range. */
export function sweaSettingsHparams(s: SweaSettings): { hparams: SweaHparams } | { error: string } {
  for (const k of SWEA_PARAM_NAMES) {
    const err = paramError(SWEA_PARAMS[k], s.values[k]);
    if (err) return { error: `SWEA: ${err}.` };
  }
  return {
    hparams: {
      ...(s.values as Record<SweaParamName, number>),
      mode: s.suppress ? "kn+optimize" : "optimize",
    },
  };
}

export interface SweaDraft {
  prompt: string;
  subject: string;
  targetNew: string;
  /** The old object the suppression step attributes (blank: the model's answer now). */
  targetTrue: string;
  settings: SweaSettings;
}

/**
 * The one-fact SWEA edit the draft asks for, or the first thing wrong with it. `answer` is the
 * model's top prediction for the prompt (the old object when the draft leaves it blank).
 */
export function sweaRecipe(
  d: SweaDraft,
  answer: string | null,
): { edit: SweaEdit } | { error: string } {
  const subject = d.subject.trim();
  if (d.prompt.trim() === "") return { error: "The prompt is empty: type a prompt to edit." };
  if (subject === "") return { error: "Type the subject whose token embeddings SWEA alters." };
  const template = romeTemplate(d.prompt, subject);
  if (template === null) {
    return {
      error: `The subject "${subject}" is not in the prompt: SWEA learns on a prompt that names it.`,
    };
  }
  if (template.trim() === "{}") {
    return { error: "The prompt is only the subject: it needs the relation after it too." };
  }
  const targetNew = d.targetNew.trim();
  if (targetNew === "") {
    return { error: "Type the new target: the object the prompt should now complete with." };
  }
  const targetTrue = d.targetTrue.trim() || answer?.trim() || "";
  if (targetTrue === targetNew) {
    return { error: `The old and the new target are both "${targetNew}": give another new one.` };
  }
  const h = sweaSettingsHparams(d.settings);
  if ("error" in h) return h;
  return {
    edit: {
      kind: "swea",
      params: {
        requests: [
          {
            prompt: template,
            subject,
            target_new: targetNew,
            ...(targetTrue !== "" ? { target_true: targetTrue } : {}),
          },
        ],
        ...h.hparams,
      },
    },
  };
}
