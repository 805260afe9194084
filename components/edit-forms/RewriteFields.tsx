"use client";
/**
 * The fields of one requested rewrite (ROME's fields), shared by the ROME and SWEA forms: the
 * subject, the prompt (with the template it makes: the subject as "{}"), and the new target
 * (the model's answer now as its placeholder, with a warning when they are the same).
 */
import { visibleToken } from "../format";
import { romeTemplate } from "./rome-recipe";
import { TextField } from "./TextField";

export interface RewriteDraft {
  prompt: string;
  subject: string;
  targetNew: string;
}

export function RewriteFields({
  prefix,
  draft: d,
  set,
  answer,
}: {
  /** Test ids start with it: rome → rome-subject, rome-prompt, rome-target, rome-warn. */
  prefix: string;
  draft: RewriteDraft;
  set: (p: Partial<RewriteDraft>) => void;
  /** The model's top prediction for the prompt (null: not known). */
  answer: string | null;
}) {
  const template = romeTemplate(d.prompt, d.subject);
  const sameAsAnswer =
    answer !== null && d.targetNew.trim() !== "" && d.targetNew.trim() === answer.trim();
  return (
    <>
      <TextField
        label="Subject"
        value={d.subject}
        onChange={(subject) => set({ subject })}
        testId={`${prefix}-subject`}
      />
      <TextField
        label="Prompt"
        value={d.prompt}
        onChange={(prompt) => set({ prompt })}
        testId={`${prefix}-prompt`}
      >
        <small className="field__help">
          Template: <code>{template ?? "— subject not found —"}</code>
        </small>
      </TextField>
      <TextField
        label="New target"
        value={d.targetNew}
        onChange={(targetNew) => set({ targetNew })}
        placeholder={answer !== null ? `now: ${visibleToken(answer)}` : "e.g. Halvek"}
        testId={`${prefix}-target`}
      >
        {sameAsAnswer ? (
          <small className="field__help editform__warn" data-testid={`${prefix}-warn`}>
            This is already the model's answer: the edit will only make it more certain.
          </small>
        ) : null}
      </TextField>
    </>
  );
}
