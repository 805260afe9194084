"use client";
/**
 * Generation after the current prompt, from the original model and from the model with the edit
 * stack, side by side: greedy, or sampled with a seed (the same seed for both, so the texts
 * differ only by the edits). Requests and answers go through the store like every other
 * request (lib/store/generate-slice.ts).
 */
import { useEffect, useState } from "react";
import { paramError } from "@/lib/params/schema";
import { GENERATE_PARAMS } from "@/lib/params/table";
import type { GenerateSettings, GenerateVariant } from "@/lib/protocol";
import type { GenerateSide } from "@/lib/store";
import { NumberField } from "./NumberField";
import { useCauseway } from "./StoreProvider";
import { useModelBlocked } from "./use-model-blocked";

const VARIANTS: GenerateVariant[] = ["original", "edited"];

/** The settings' problem, or null when they can be sent. */
export function settingsError(s: GenerateSettings, nCtx: number | null): string | null {
  // bounds: lib/params/table.ts, as the CLI's generate flags and links check them
  const P = GENERATE_PARAMS;
  const maxNew = paramError(P.maxNew, s.maxNew, Math.min(P.maxNew.max, nCtx ?? P.maxNew.max));
  if (maxNew || !s.sample) return maxNew;
  return (
    paramError(P.seed, s.seed) ??
    paramError(P.temperature, s.temperature) ??
    paramError(P.topK, s.topK)
  );
}

export function GenerationPanel() {
  const prompt = useCauseway((s) => s.predict.prompt);
  const blocked = useModelBlocked();
  const nCtx = useCauseway((s) => s.model.info?.config.nCtx ?? null);
  const modelName = useCauseway((s) => s.model.info?.name ?? null);
  const stack = useCauseway((s) => s.edits.stack);
  const enabled = stack.filter((e) => e.enabled !== false).length;

  const settings = useCauseway((s) => s.generateSettings);
  const set = useCauseway((s) => s.setGenerateSettings);
  const sides = useCauseway((s) => s.generate);
  const startGenerate = useCauseway((s) => s.startGenerate);
  const stopGenerate = useCauseway((s) => s.stopGenerate);
  const clearGenerate = useCauseway((s) => s.clearGenerate);
  const [formError, setFormError] = useState<string | null>(null);

  // a new model makes every earlier text stale; a new edit stack the edited one
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a model change only
  useEffect(() => {
    clearGenerate();
  }, [modelName]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a stack change only
  useEffect(() => {
    clearGenerate("edited");
  }, [stack]);

  const running = VARIANTS.some((v) => sides[v].status === "running");

  function start() {
    const err = !prompt.trim() ? "Type a prompt above first" : settingsError(settings, nCtx);
    setFormError(err);
    if (!err) startGenerate(prompt, settings);
  }

  return (
    <section
      className="panel generate"
      aria-labelledby="generate-title"
      data-testid="generation-panel"
    >
      <header className="panel__head">
        <h2 id="generate-title">Generation · original vs edited</h2>
        <span className="panel__note">
          the same prompt, settings and seed without and with the edit stack (
          {enabled === 0 ? "empty" : `${enabled} edit${enabled === 1 ? "" : "s"}`})
        </span>
      </header>
      <form
        className="patch__form"
        onSubmit={(e) => {
          e.preventDefault();
          start();
        }}
      >
        <label className="field">
          <span className="field__label">Decoding</span>
          <select
            className="field__input"
            value={settings.sample ? "sample" : "greedy"}
            onChange={(e) => set({ sample: e.target.value === "sample" })}
            data-testid="generate-mode"
          >
            <option value="greedy">greedy</option>
            <option value="sample">sampled</option>
          </select>
        </label>
        <NumberField
          id="generate-max-new"
          label="Max new tokens"
          value={settings.maxNew}
          param={GENERATE_PARAMS.maxNew}
          onChange={(v) => set({ maxNew: v ?? Number.NaN })}
          testId="generate-max-new"
        />
        {settings.sample ? (
          <>
            <NumberField
              id="generate-seed"
              label="Seed"
              value={settings.seed}
              param={GENERATE_PARAMS.seed}
              onChange={(v) => set({ seed: v ?? Number.NaN })}
              testId="generate-seed"
            />
            <NumberField
              id="generate-temperature"
              label="Temperature"
              value={settings.temperature}
              param={GENERATE_PARAMS.temperature}
              step={0.1}
              onChange={(v) => set({ temperature: v ?? Number.NaN })}
              testId="generate-temperature"
            />
            <NumberField
              id="generate-top-k"
              label="Top-k (0 = all)"
              value={settings.topK}
              param={GENERATE_PARAMS.topK}
              onChange={(v) => set({ topK: v ?? Number.NaN })}
              testId="generate-top-k"
            />
          </>
        ) : null}
        <div className="patch__actions">
          {running ? (
            <button type="button" className="btn btn--ghost" onClick={stopGenerate}>
              Stop
            </button>
          ) : null}
          <button
            type="submit"
            className="btn btn--primary"
            disabled={blocked !== null}
            title={blocked ?? undefined}
            data-testid="run-generate"
          >
            Generate
          </button>
        </div>
        {formError ? (
          <p className="form-error" role="alert" data-testid="generate-form-error">
            {formError}
          </p>
        ) : null}
      </form>
      <div
        className="generate__sides"
        style={{ display: "grid", gridTemplateColumns: "1fr 1fr", gap: "1rem" }}
      >
        {VARIANTS.map((v) => (
          <GenerationSide
            key={v}
            variant={v}
            prompt={prompt}
            side={sides[v]}
            max={settings.maxNew}
          />
        ))}
      </div>
    </section>
  );
}

function GenerationSide({
  variant,
  prompt,
  side,
  max,
}: {
  variant: GenerateVariant;
  prompt: string;
  side: GenerateSide;
  max: number;
}) {
  const r = side.result;
  const stopWhy =
    r?.stop === "eos"
      ? "end of text"
      : r?.stop === "context"
        ? "context full"
        : r?.stop === "cancelled"
          ? "stopped"
          : "max tokens";
  return (
    <div className="generate__side" data-testid={`generate-${variant}`} data-status={side.status}>
      <h3 className="field__label">{variant === "original" ? "Original" : "Edited"}</h3>
      {side.status === "running" ? (
        <p className="panel__note">
          generating… {side.done}/{max}
        </p>
      ) : null}
      {side.status === "error" ? (
        <p className="form-error" role="alert">
          {side.error?.message}
        </p>
      ) : null}
      {r ? (
        <>
          <p style={{ whiteSpace: "pre-wrap" }}>
            <span className="panel__note">{prompt}</span>
            <strong data-testid={`generate-${variant}-text`} data-ids={r.ids.join(",")}>
              {r.text}
            </strong>
          </p>
          <p className="panel__note">
            {r.ids.length} tokens · {stopWhy}
            {r.sameAsOriginal ? " · same as the original (no edit changes the model)" : ""}
          </p>
        </>
      ) : null}
    </div>
  );
}
