"use client";
/**
 * SWEA⊕OS on one fact (lib/edit/swea.ts): offsets learned for the subject's token embeddings,
 * added by a lookup wherever the subject's token sequence occurs in the input; no weight moves.
 * The prompt and subject start as the trace's; the old object (for the suppression step)
 * defaults to the model's answer now. The worker learns the edit when it goes onto the stack.
 */
import { useState } from "react";
import { visibleToken } from "../format";
import { useCauseway } from "../StoreProvider";
import { FormFooter } from "./FormFooter";
import { RewriteFields } from "./RewriteFields";
import { SweaSettingsFields } from "./SweaSettingsFields";
import { defaultSweaSettings, type SweaDraft, sweaRecipe } from "./swea-recipe";
import { TextField } from "./TextField";
import type { EditFormProps } from "./types";

export function SweaForm({ prompt, subject, onAdd, onCancel }: EditFormProps) {
  const answer = useCauseway((s) =>
    s.predict.resultPrompt === prompt ? (s.predict.result?.top[0]?.token ?? null) : null,
  );
  const [d, setD] = useState<SweaDraft>({
    prompt,
    subject: subject ?? "",
    targetNew: "",
    targetTrue: "",
    settings: defaultSweaSettings(),
  });
  const [error, setError] = useState<string | null>(null);
  const set = (p: Partial<SweaDraft>) => {
    setD((x) => ({ ...x, ...p }));
    setError(null);
  };
  return (
    <form
      className="editform"
      data-testid="swea-form"
      onSubmit={(e) => {
        e.preventDefault();
        const r = sweaRecipe(d, answer);
        setError("error" in r ? r.error : null);
        if ("edit" in r) onAdd(r.edit);
      }}
    >
      <h3 className="editform__title">SWEA: rewrite a fact in the subject's token embeddings</h3>
      <p className="field__help" data-testid="swea-note">
        No weight changes: learned offsets are added to the subject's token embeddings{" "}
        <strong>wherever the subject's token sequence occurs</strong> — in every prompt that names
        it, not only this one; prompts without it are unchanged.
      </p>
      <div className="editform__grid">
        <RewriteFields prefix="swea" draft={d} set={set} answer={answer} />
        <TextField
          label="Old target"
          value={d.targetTrue}
          onChange={(targetTrue) => set({ targetTrue })}
          placeholder={answer !== null ? `now: ${visibleToken(answer)}` : "e.g. Parrow"}
          testId="swea-target-true"
        >
          <small className="field__help">
            the object the suppression step removes (blank: the model's answer now)
          </small>
        </TextField>
      </div>
      <SweaSettingsFields
        prefix="swea"
        value={d.settings}
        onChange={(settings) => set({ settings })}
      />
      <FormFooter
        error={error}
        onCancel={onCancel}
        applyLabel="Apply SWEA edit"
        testPrefix="swea"
      />
    </form>
  );
}
