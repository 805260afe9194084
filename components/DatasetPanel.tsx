"use client";
/**
 * Dataset mode (ROME's Figure 2): causal traces over many known facts, averaged into the
 * indirect effect by layer for ROME's token groups, one chart per kind, with 95% bands. Facts the
 * model gets wrong are skipped, and counted.
 */
import { area, line, scaleLinear } from "d3";
import { useRef } from "react";
import type { DatasetResult, GroupCurve } from "@/lib/interp/dataset";
import { TRACE_KINDS, type TraceKind } from "@/lib/interp/spec";
import { DATASET_PARAMS, TRACE_PARAMS } from "@/lib/params/table";
import { curvesExtent, drawable, GROUP_COLOR, GROUP_LABEL } from "@/lib/viz/curves";
import { indexTicks, tickLabel } from "@/lib/viz/ticks";
import { KIND_TITLE } from "./Heatmap";
import { NumberField } from "./NumberField";
import { RunLine } from "./RunLine";
import { useCauseway } from "./StoreProvider";
import { useModelBlocked } from "./use-model-blocked";
import { useElementWidth } from "./useElementWidth";

export function DatasetPanel() {
  const st = useCauseway((s) => s.dataset.settings);
  const run = useCauseway((s) => s.dataset.run);
  const result = useCauseway((s) => s.dataset.result);
  const formError = useCauseway((s) => s.dataset.formError);
  const blocked = useModelBlocked();
  const set = useCauseway((s) => s.setDatasetSettings);
  const loadFactsFile = useCauseway((s) => s.loadFactsFile);
  const runDataset = useCauseway((s) => s.runDataset);

  return (
    <section className="panel dataset" aria-labelledby="dataset-title" data-testid="dataset-panel">
      <header className="panel__head">
        <h2 id="dataset-title">Average over known facts</h2>
        <span className="panel__note">
          ROME's average indirect effect by token group · facts the model gets wrong are skipped
        </span>
      </header>
      <form
        className="dataset__form"
        onSubmit={(e) => {
          e.preventDefault();
          runDataset();
        }}
      >
        <NumberField
          id="dataset-limit"
          label="facts"
          value={st.limit}
          param={DATASET_PARAMS.limit}
          onChange={(v) => set({ limit: v ?? Number.NaN })}
          testId="dataset-limit"
        />
        <NumberField
          id="dataset-samples"
          label="samples"
          value={st.samples}
          param={TRACE_PARAMS.samples}
          onChange={(v) => set({ samples: v ?? Number.NaN })}
          testId="dataset-samples"
        />
        <div className="kinds kinds--row">
          {TRACE_KINDS.map((k) => (
            <label key={k} className={`kind kind--${k}`}>
              <input
                type="checkbox"
                checked={st.kinds.includes(k)}
                onChange={(e) =>
                  set({
                    kinds: e.target.checked
                      ? TRACE_KINDS.filter((x) => x === k || st.kinds.includes(x))
                      : st.kinds.filter((x) => x !== k),
                  })
                }
              />
              <span>{KIND_TITLE[k]}</span>
            </label>
          ))}
        </div>
        <label className="btn btn--ghost dataset__file">
          <input
            type="file"
            accept=".json,application/json"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              if (f) loadFactsFile(await f.text(), f.name);
              e.target.value = "";
            }}
            data-testid="dataset-file"
          />
          {st.factsName
            ? `${st.factsName} (${st.facts?.length ?? 0} facts)`
            : "Use a known-facts file…"}
        </label>
        {st.factsName ? (
          <button
            type="button"
            className="btn btn--ghost"
            onClick={() => set({ facts: null, factsName: null })}
          >
            Use the model's facts
          </button>
        ) : null}
        <button
          type="submit"
          className="btn btn--primary"
          disabled={blocked !== null}
          title={blocked ?? undefined}
          data-testid="run-dataset"
        >
          Trace facts
        </button>
        {formError ? (
          <p className="form-error" role="alert">
            {formError.message}
          </p>
        ) : null}
      </form>
      <RunLine run={run} what="dataset trace" owner="dataset" />
      {result ? <DatasetResultView result={result} /> : null}
    </section>
  );
}

function DatasetResultView({ result }: { result: DatasetResult }) {
  const kinds = TRACE_KINDS.filter((k) => result.kinds[k]);
  // what "wrong" meant for the rule that picked the facts (answer_among: the ABSC labels)
  const wrong = result.answer_among
    ? `another of the ${result.answer_among.length} answers scores higher than the fact's`
    : "the model's top token is not the fact's answer";
  return (
    <div data-testid="dataset-result" data-used={result.n_used}>
      <p className="dataset__summary">
        {result.n_used} of {result.n_facts} facts traced · {result.skipped_wrong} skipped ({wrong})
        {result.skipped_invalid > 0 ? ` · ${result.skipped_invalid} invalid` : ""} · mean p clean{" "}
        {Number.isFinite(result.avg_high_score) ? result.avg_high_score.toFixed(3) : "—"}, corrupted{" "}
        {Number.isFinite(result.avg_low_score) ? result.avg_low_score.toFixed(3) : "—"} ·{" "}
        {result.samples} samples
      </p>
      <div className="dataset__charts">
        {kinds.map((k) => (
          <CurveChart
            key={k}
            kind={k}
            curves={result.kinds[k]!.groups}
            window={result.kinds[k]!.window}
            nLayer={result.n_layer}
          />
        ))}
      </div>
      <ul className="dataset__legend">
        {Object.keys(GROUP_LABEL).map((g) => (
          <li key={g}>
            <span style={{ background: GROUP_COLOR[g] }} />
            {GROUP_LABEL[g]}
          </li>
        ))}
      </ul>
    </div>
  );
}

function CurveChart({
  kind,
  curves,
  window,
  nLayer,
}: {
  kind: TraceKind;
  curves: GroupCurve[];
  window: number;
  nLayer: number;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const width = Math.max(220, useElementWidth(ref, 320));
  const height = 190;
  const m = { left: 44, right: 10, top: 10, bottom: 36 };
  const shown = drawable(curves);
  const extent = curvesExtent(shown) ?? [0, 1];
  const x = scaleLinear()
    .domain([0, Math.max(1, nLayer - 1)])
    .range([m.left, width - m.right]);
  const y = scaleLinear()
    .domain(extent)
    .nice()
    .range([height - m.bottom, m.top]);
  const layers = Array.from({ length: nLayer }, (_, l) => l);
  const band = (c: GroupCurve) =>
    area<number>()
      .defined((l) => Number.isFinite(c.lo[l]) && Number.isFinite(c.hi[l]))
      .x((l) => x(l))
      .y0((l) => y(c.lo[l]))
      .y1((l) => y(c.hi[l]))(layers) ?? "";
  const path = (c: GroupCurve) =>
    line<number>()
      .defined((l) => Number.isFinite(c.mean[l]))
      .x((l) => x(l))
      .y((l) => y(c.mean[l]))(layers) ?? "";
  return (
    <figure className="curve" ref={ref} data-testid={`dataset-chart-${kind}`}>
      <figcaption className="heatmap__title">
        <span className={`heatmap__swatch heatmap__swatch--${kind}`} />
        {KIND_TITLE[kind]}
        <span className="heatmap__sub">{kind === "hidden" ? "" : `window of ${window}`}</span>
      </figcaption>
      <svg
        width={width}
        height={height}
        role="img"
        aria-label={`Average indirect effect, ${KIND_TITLE[kind]}`}
      >
        {y.ticks(4).map((v) => (
          <g key={v} transform={`translate(0,${y(v)})`}>
            <line
              x1={m.left}
              x2={width - m.right}
              stroke={v === 0 ? "var(--ink-3)" : "var(--line)"}
            />
            <text x={m.left - 6} dy="0.32em" textAnchor="end" className="axis__tick">
              {tickLabel(v)}
            </text>
          </g>
        ))}
        {indexTicks(nLayer, (width - m.left - m.right) / Math.max(1, nLayer - 1), 16).map((l) => (
          <text
            key={l}
            x={x(l)}
            y={height - m.bottom + 15}
            textAnchor="middle"
            className="axis__tick"
          >
            {l}
          </text>
        ))}
        <text
          x={(m.left + width - m.right) / 2}
          y={height - 4}
          textAnchor="middle"
          className="axis__label"
        >
          layer
        </text>
        <text
          transform={`translate(11,${(m.top + height - m.bottom) / 2}) rotate(-90)`}
          textAnchor="middle"
          className="axis__label"
        >
          avg indirect effect
        </text>
        {shown.map((c) => (
          <path key={`b-${c.group}`} d={band(c)} fill={GROUP_COLOR[c.group]} opacity={0.16} />
        ))}
        {shown.map((c) => (
          <path
            key={`l-${c.group}`}
            d={path(c)}
            fill="none"
            stroke={GROUP_COLOR[c.group]}
            strokeWidth={c.group === "last_subject" || c.group === "last" ? 2.2 : 1.4}
          >
            <title>{`${GROUP_LABEL[c.group]} (n = ${c.n})`}</title>
          </path>
        ))}
      </svg>
    </figure>
  );
}
