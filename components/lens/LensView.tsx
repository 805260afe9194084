"use client";
/**
 * Logit lens (lib/interp/logit-lens.ts): the residual stream before each block, and after the
 * last one, decoded with the final LayerNorm and the unembedding, at every position of the
 * prompt. Cells are coloured by p(target) and show the top-1 token; the tooltip lists the top k.
 * A click opens ROME at the layer whose MLP last wrote that stream (block l − 1 for the stream
 * before block l; layer 0 for the embeddings), at that position.
 */
import { useMemo } from "react";
import { lensCsv } from "@/lib/export/readouts";
import type { LensResult } from "@/lib/interp/logit-lens";
import { fmtValue, visibleToken } from "@/lib/viz/format";
import { sequentialScale, TRACE_SCHEMES } from "@/lib/viz/scales";
import { formForSite } from "../edit-forms/registry";
import { useCauseway } from "../StoreProvider";
import { CellGrid } from "./CellGrid";
import { TextField } from "./fields";
import { ReadoutExports, ReadoutStatus, RunButton } from "./ReadoutRun";
import "./lens.css";

/** The MLP layer a click on stream `row` (0 … L) edits: the last block that wrote it. */
export const lensEditLayer = (row: number) => Math.max(0, row - 1);

export function LensView() {
  const settings = useCauseway((s) => s.readouts.settings);
  const set = useCauseway((s) => s.setReadoutSettings);
  const result = useCauseway((s) => s.readouts.lens.result);
  const job = useCauseway((s) => s.readouts.lens.job);
  return (
    <section className="panel lens" aria-labelledby="lens-title" data-testid="lens-view">
      <header className="panel__head">
        <h2 id="lens-title">Logit lens</h2>
        <span className="panel__note">
          each layer's residual stream read out as if it were the last: final LayerNorm, then the
          unembedding
        </span>
      </header>
      <form className="lens__form" onSubmit={(e) => e.preventDefault()}>
        <TextField
          label="Target"
          value={settings.lensTarget}
          onChange={(v) => set({ lensTarget: v })}
          placeholder="the model's top-1"
          testId="lens-target"
        />
        <label className="field field--narrow">
          <span className="field__label">Tokens per cell</span>
          <input
            className="field__input"
            type="number"
            min={1}
            max={50}
            value={settings.topK}
            onChange={(e) => set({ topK: Number(e.target.value) })}
            data-testid="lens-topk"
          />
        </label>
        <RunButton type="lens" label="Run logit lens" />
      </form>
      <p className="panel__note">
        On the prompt above. Click a cell to edit the MLP that wrote it (ROME).
      </p>
      <ReadoutStatus type="lens" what="logit lens" />
      {result && job ? (
        <>
          <LensMap result={result} prompt={job.prompt} />
          <ReadoutExports
            type="lens"
            name="logit-lens"
            result={result}
            csv={(about) => lensCsv(result, about)}
          />
        </>
      ) : (
        <p className="heatmap__empty">Run the logit lens to fill this in.</p>
      )}
    </section>
  );
}

function LensMap({ result, prompt }: { result: LensResult; prompt: string }) {
  const open = useCauseway((s) => s.openEditForm);
  const subject = useCauseway((s) => s.trace.settings.subjectText);
  const L = result.n_layer;
  // rows = positions, columns = streams (as the trace: tokens down the side, layers along)
  const values = useMemo(
    () => result.input_tokens.map((_, t) => result.target_prob.map((row) => row[t])),
    [result],
  );
  const scheme = TRACE_SCHEMES.hidden;
  const scale = useMemo(() => sequentialScale(scheme.interpolate, [0, 1]), [scheme]);
  const colLabels = result.layers.map((_, i) => (i < L ? String(i) : "out"));
  const target = visibleToken(result.target.token);
  const rome = formForSite("mlp");
  return (
    <div className="lens__map" data-testid="lens-map" data-target={result.target.token}>
      <CellGrid
        values={values}
        rowLabels={result.input_tokens.map(visibleToken)}
        colLabels={colLabels}
        rowTitle="position"
        colTitle="residual stream before layer (out: after the last)"
        color={(v) => scale.color(v) ?? "#fff"}
        legend={{ interpolate: scheme.interpolate, domain: [0, 1], label: `p(${target})` }}
        cellText={(t, i) => visibleToken(result.top[i][t][0]?.token ?? "")}
        onCellClick={
          rome
            ? (t, i) =>
                open({
                  form: rome.id,
                  site: { layer: lensEditLayer(i), position: t, kind: "mlp" },
                  prompt,
                  subject: subject || undefined,
                })
            : undefined
        }
        tooltip={(t, i) => (
          <>
            <div className="tooltip__head">
              <code>{visibleToken(result.input_tokens[t])}</code>
              <span>
                token {t} · {result.layers[i]}
              </span>
            </div>
            <div className="tooltip__row">
              <span>p({target})</span>
              <strong>{fmtValue(result.target_prob[i][t])}</strong>
            </div>
            {result.top[i][t].map((tok, k) => (
              <div className="tooltip__row" key={`${tok.id}-${k}`}>
                <span>
                  {k + 1}. <code>{visibleToken(tok.token)}</code>
                </span>
                <span>{fmtValue(tok.prob)}</span>
              </div>
            ))}
            <div className="tooltip__row">
              <span>click</span>
              <span>ROME at layer {lensEditLayer(i)}</span>
            </div>
          </>
        )}
        testId="lens-grid"
      />
    </div>
  );
}
