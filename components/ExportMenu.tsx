"use client";
/**
 * An export menu per computed heatmap of the trace on screen: SVG (publication figure, ROME's
 * layout), PNG (that SVG at devicePixelRatio × 2), JSON (ROME's field names), CSV, and a Python
 * script that recomputes the trace with torch (lib/export/python.ts).
 */
import { useState } from "react";
import { traceCsv } from "@/lib/export/csv";
import { downloadBlob, downloadText, svgToPng } from "@/lib/export/download";
import { traceJson } from "@/lib/export/json";
import { pythonScript, romeLayerFor } from "@/lib/export/python";
import { traceSvg } from "@/lib/export/svg";
import type { TraceExport } from "@/lib/export/trace-data";
import { TRACE_KINDS, type TraceKind } from "@/lib/interp/spec";
import type { ModelSource } from "@/lib/protocol";
import { editStackOf } from "@/lib/share/store";
import type { CausewayState, TraceGrid } from "@/lib/store";
import { KIND_TITLE } from "./Heatmap";
import { useCauseway, useCausewayStore } from "./StoreProvider";

function complete(g: TraceGrid | undefined): g is TraceGrid {
  return g !== undefined && g.filled === g.rows * g.cols;
}

function exportOf(s: CausewayState, kind: TraceKind): TraceExport | null {
  const r = s.trace.result;
  const g = r?.grids[kind];
  if (!r?.tokens || !r.subject || !complete(g)) return null;
  const b = g.baseline;
  return {
    kind,
    scores: Array.from({ length: g.rows }, (_, i) =>
      Array.from(g.values.slice(i * g.cols, (i + 1) * g.cols)),
    ),
    low_score: b.low,
    high_score: b.high,
    input_tokens: b.tokens,
    input_ids: b.ids,
    subject_range: b.subject,
    answer: b.answer.token,
    window: b.window,
  };
}

/** What --model defaults to in the script. */
function modelRef(source: ModelSource | null): string {
  const s = source as unknown as {
    kind: string;
    name?: string;
    repo?: string;
    baseUrl?: string;
  } | null;
  if (!s) return "tiny-facts";
  if (s.kind === "bundled") return `public/models/${s.name}`;
  if (s.kind === "hub") return s.repo ?? "";
  if (s.kind === "url") return s.baseUrl ?? "";
  return s.name ?? "model";
}

function python(s: CausewayState): string {
  const r = s.trace.result;
  if (!r || !s.model.info) throw new Error("No trace to export.");
  const kinds = TRACE_KINDS.filter((k) => complete(r.grids[k]));
  const b = (r.grids[kinds[0]] as TraceGrid).baseline;
  if (b.corruption !== "noise") {
    throw new Error(
      "Export to Python covers noise corruption; this trace uses a counterfactual prompt.",
    );
  }
  const spec = r.job.spec;
  return pythonScript({
    model: modelRef(s.model.source),
    revision: (s.model.source as { revision?: string } | null)?.revision,
    inputIds: b.ids,
    inputTokens: b.tokens,
    subject: b.subject,
    targetIds: b.answer.ids,
    answer: b.answer.token,
    kinds,
    samples: b.samples,
    noise: spec.noise ?? 3,
    seed: spec.seed ?? 1,
    window: b.window,
    corruptIds: null,
    edits: editStackOf(s),
    defaultRomeLayer: romeLayerFor(s.model.info.config.nLayer),
    expected: Object.fromEntries(kinds.map((k) => [k, exportOf(s, k)?.scores ?? []])),
  });
}

export function ExportMenus() {
  const kinds = useCauseway((s) =>
    TRACE_KINDS.filter((k) => complete(s.trace.result?.grids[k])).join(","),
  );
  const [error, setError] = useState<string | null>(null);
  if (kinds === "") return null;
  return (
    <div
      className="trace__exports"
      data-testid="trace-exports"
      style={{ display: "flex", gap: 12, flexWrap: "wrap" }}
    >
      {(kinds.split(",") as TraceKind[]).map((k) => (
        <ExportMenu key={k} kind={k} onError={setError} />
      ))}
      {error ? (
        <p className="form-error" role="alert" data-testid="export-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function ExportMenu({ kind, onError }: { kind: TraceKind; onError: (m: string | null) => void }) {
  const store = useCausewayStore();
  const run = (f: (t: TraceExport, s: CausewayState) => Promise<void> | void) => async () => {
    const s = store.getState();
    const t = exportOf(s, kind);
    if (!t) return;
    try {
      onError(null);
      await f(t, s);
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
    }
  };
  const base = `causeway-trace-${kind}`;
  return (
    <details className="export-menu" data-testid={`export-${kind}`}>
      <summary className="btn btn--ghost">Export {KIND_TITLE[kind].toLowerCase()}</summary>
      <div style={{ display: "flex", gap: 4, marginTop: 4 }}>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={run((t) => downloadText(traceSvg(t), `${base}.svg`, "image/svg+xml"))}
          data-testid={`export-${kind}-svg`}
        >
          SVG
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={run(async (t) =>
            downloadBlob(
              await svgToPng(traceSvg(t), (window.devicePixelRatio || 1) * 2),
              `${base}.png`,
            ),
          )}
          data-testid={`export-${kind}-png`}
        >
          PNG
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={run((t) => downloadText(traceJson([t]), `${base}.json`, "application/json"))}
          data-testid={`export-${kind}-json`}
        >
          JSON
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={run((t) => downloadText(traceCsv([t]), `${base}.csv`, "text/csv"))}
          data-testid={`export-${kind}-csv`}
        >
          CSV
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={run((_t, s) => downloadText(python(s), "causeway_trace.py", "text/x-python"))}
          data-testid={`export-${kind}-python`}
        >
          Python
        </button>
      </div>
    </details>
  );
}
