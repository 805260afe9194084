"use client";
/**
 * Direct logit attribution (lib/interp/dla.ts): what each head, each layer's attention bias and
 * MLP, the embeddings and the final LayerNorm's bias write into logit[target] − logit[foil] at
 * one position, the final norm's scale frozen. A check line shows that the terms sum to the
 * model's own logit difference. Click a head → the head edit form; an MLP → ROME at that layer.
 */
import { useMemo } from "react";
import { dlaCsv } from "@/lib/export/readouts";
import type { DlaResult } from "@/lib/interp/dla";
import { fmtSigned, visibleToken } from "@/lib/viz/format";
import { formForSite } from "../edit-forms/registry";
import { useCauseway } from "../StoreProvider";
import { CellGrid } from "./CellGrid";
import { diverging } from "./diverging";
import { TargetFoil, TextField } from "./fields";
import { ReadoutExports, ReadoutStatus, RunButton } from "./ReadoutRun";
import "./lens.css";

/** The sum is exact up to float32 rounding (docs/attribution.md; tested within 1e-4). */
export const DLA_SUM_TOL = 1e-4;

const sum = (a: number[]) => a.reduce((p, v) => p + v, 0);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function DlaView() {
  const settings = useCauseway((s) => s.readouts.settings);
  const set = useCauseway((s) => s.setReadoutSettings);
  const result = useCauseway((s) => s.readouts.dla.result);
  const job = useCauseway((s) => s.readouts.dla.job);
  return (
    <section className="panel lens" aria-labelledby="dla-title" data-testid="dla-view">
      <header className="panel__head">
        <h2 id="dla-title">Direct logit attribution</h2>
        <span className="panel__note">
          what each component writes straight into logit(target) − logit(foil), final norm's scale
          frozen
        </span>
      </header>
      <form className="lens__form" onSubmit={(e) => e.preventDefault()}>
        <TextField
          label="Target"
          value={settings.dlaTarget}
          onChange={(v) => set({ dlaTarget: v })}
          placeholder="top-1"
          testId="dla-target"
        />
        <TextField
          label="Foil"
          value={settings.dlaFoil}
          onChange={(v) => set({ dlaFoil: v })}
          placeholder="top-2"
          testId="dla-foil"
        />
        <label className="field field--narrow">
          <span className="field__label">Position</span>
          <input
            className="field__input"
            type="number"
            min={0}
            value={settings.dlaPosition ?? ""}
            placeholder="last"
            onChange={(e) =>
              set({ dlaPosition: e.target.value === "" ? null : Number(e.target.value) })
            }
            data-testid="dla-position"
          />
        </label>
        <RunButton type="dla" label="Attribute" />
      </form>
      <p className="panel__note">
        On the prompt above. Click a head to edit it, an MLP to rewrite it (ROME).
      </p>
      <ReadoutStatus type="dla" what="direct logit attribution" />
      {result && job ? (
        <>
          <DlaResultView result={result} prompt={job.prompt} />
          <ReadoutExports
            type="dla"
            name="dla"
            result={result}
            csv={(about) => dlaCsv(result, about)}
          />
        </>
      ) : (
        <p className="heatmap__empty">Attribute to fill this in.</p>
      )}
    </section>
  );
}

function DlaResultView({ result: r, prompt }: { result: DlaResult; prompt: string }) {
  const open = useCauseway((s) => s.openEditForm);
  const subject = useCauseway((s) => s.trace.settings.subjectText);
  const gap = Math.abs(r.total - r.logit_diff);
  const ok = gap <= DLA_SUM_TOL;
  const f = (v: number) => v.toFixed(4);
  const heads = useMemo(() => diverging(r.heads.flat(), `contribution to LD`), [r]);
  const layerValues = useMemo(() => range(r.n_layer).map((l) => [r.attn_bias[l], r.mlp[l]]), [r]);
  const layers = useMemo(() => diverging(layerValues.flat(), "contribution"), [layerValues]);
  const headForm = formForSite("head");
  const rome = formForSite("mlp");
  const tok = (t: { token: string }) => visibleToken(t.token);
  const tip = (what: string, v: number) => (
    <>
      <div className="tooltip__head">
        <span>{what}</span>
      </div>
      <div className="tooltip__row">
        <span>
          LD({tok(r.target)} − {tok(r.foil)})
        </span>
        <strong>{fmtSigned(v)}</strong>
      </div>
    </>
  );
  return (
    <div className="lens__dla">
      <dl className="facts">
        <TargetFoil target={r.target} foil={r.foil} />
        <div>
          <dt>position</dt>
          <dd>
            {r.position} <code className="tok">{visibleToken(r.input_tokens[r.position])}</code>
          </dd>
        </div>
        <div>
          <dt>logit difference</dt>
          <dd>{f(r.logit_diff)}</dd>
        </div>
      </dl>
      <p
        className={`lens__check${ok ? "" : " lens__check--off"}`}
        data-testid="dla-check"
        data-total={r.total}
        data-logit-diff={r.logit_diff}
      >
        Σ heads {f(sum(r.heads.flat()))} + Σ attention biases {f(sum(r.attn_bias))} + Σ MLPs{" "}
        {f(sum(r.mlp))} + embeddings {f(r.embed)} + positions {f(r.pos_embed)} + final-norm bias{" "}
        {f(r.ln_final_bias)} = <strong>{f(r.total)}</strong>; the model's logit difference is{" "}
        <strong>{f(r.logit_diff)}</strong>{" "}
        {ok
          ? `(they agree within ${DLA_SUM_TOL})`
          : `(off by ${gap.toExponential(2)}: an edit acting on the residual stream breaks the sum)`}
      </p>
      <div className="lens__pair">
        <div>
          <h3 className="lens__sub">Heads</h3>
          <CellGrid
            values={r.heads}
            rowLabels={range(r.n_layer).map((l) => `L${l}`)}
            colLabels={range(r.n_head).map((h) => `H${h}`)}
            rowTitle="layer"
            colTitle="head"
            {...heads}
            maxCellW={52}
            cellText={(l, h) => r.heads[l][h].toFixed(2)}
            onCellClick={
              headForm
                ? (l, h) =>
                    open({
                      form: headForm.id,
                      site: { layer: l, head: h, kind: "head" },
                      prompt,
                      subject: subject || undefined,
                    })
                : undefined
            }
            tooltip={(l, h) => tip(`head L${l}H${h} · click to edit`, r.heads[l][h])}
            testId="dla-heads"
          />
        </div>
        <div>
          <h3 className="lens__sub">Attention bias and MLP by layer</h3>
          <CellGrid
            values={layerValues}
            rowLabels={range(r.n_layer).map((l) => `L${l}`)}
            colLabels={["attn bias", "MLP"]}
            rowTitle="layer"
            colTitle="component"
            {...layers}
            maxCellW={72}
            cellText={(l, c) => layerValues[l][c].toFixed(2)}
            onCellClick={(l, c) => {
              if (c === 1 && rome) {
                const site = { layer: l, position: r.position, kind: "mlp" as const };
                open({ form: rome.id, site, prompt, subject: subject || undefined });
              }
            }}
            tooltip={(l, c) =>
              tip(
                c === 1 ? `MLP of layer ${l} · click for ROME` : `attention bias of layer ${l}`,
                layerValues[l][c],
              )
            }
            testId="dla-layers"
          />
        </div>
      </div>
    </div>
  );
}
