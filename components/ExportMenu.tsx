"use client";
/**
 * An export menu per computed heatmap of a trace on screen: SVG (publication figure, ROME's
 * layout), PNG (that SVG at devicePixelRatio × 2), JSON (ROME's field names), CSV, and a Python
 * script that recomputes the trace with torch (lib/export/python.ts). Each set of maps has its
 * own menus, placed under them: the original trace's export the original model's numbers (the
 * script applies no edit), the edited re-trace's export the edited model's (the script applies
 * the stack it was computed with, and is refused once that stack has changed).
 */
import { useState } from "react";
import { traceCsv } from "@/lib/export/csv";
import { traceJson } from "@/lib/export/json";
import { pythonScript, romeLayerFor } from "@/lib/export/python";
import { traceSvg } from "@/lib/export/svg";
import { type TraceExport, traceExport } from "@/lib/export/trace-data";
import { TRACE_KINDS, type TraceKind } from "@/lib/interp/spec";
import type { ModelSource } from "@/lib/protocol";
import { editStackOf } from "@/lib/share/store";
import type { CausewayState, TraceGrid, TraceResultState } from "@/lib/store";
import { isCompareStale } from "@/lib/store/compare-slice";
import { downloadBlob, downloadText, svgToPng } from "./download";
import { KIND_TITLE } from "./Heatmap";
import { useCauseway, useCausewayStore } from "./StoreProvider";

/** Which maps a menu exports: the original model's trace, or the edited model's re-trace. */
export type ExportWhich = "original" | "edited";

function complete(g: TraceGrid | undefined): g is TraceGrid {
  return g !== undefined && g.filled === g.rows * g.cols;
}

/** The result the maps of `which` show. */
export function shownResult(s: CausewayState, which: ExportWhich): TraceResultState | null {
  if (which === "original") return s.trace.result;
  return s.compare.original === s.trace.result ? s.compare.edited : null;
}

function exportOf(r: TraceResultState | null, kind: TraceKind, which: ExportWhich) {
  const g = r?.grids[kind];
  if (!r?.tokens || !r.subject || !complete(g)) return null;
  const b = g.baseline;
  return traceExport({
    kind,
    model: which,
    scores: Array.from({ length: g.rows }, (_, i) =>
      Array.from(g.values.slice(i * g.cols, (i + 1) * g.cols)),
    ),
    low: b.low,
    high: b.high,
    tokens: b.tokens,
    ids: b.ids,
    subject: b.subject,
    answer: b.answer.token,
    window: b.window,
  });
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

function python(s: CausewayState, which: ExportWhich): string {
  const r = shownResult(s, which);
  if (!r || !s.model.info) throw new Error("No trace to export.");
  if (which === "edited" && isCompareStale(s)) {
    throw new Error(
      "The edit stack changed since this re-trace: re-trace the edited model to export its script.",
    );
  }
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
    // the original maps were computed without edits; the edited ones with this very stack
    edits: which === "edited" ? editStackOf(s) : [],
    defaultRomeLayer: romeLayerFor(s.model.info.config.nLayer),
    expected: Object.fromEntries(kinds.map((k) => [k, exportOf(r, k, which)?.scores ?? []])),
  });
}

/** The export menus of the maps of `which` (nothing until a kind's grid is complete). */
export function ExportMenus({ which = "original" }: { which?: ExportWhich }) {
  const kinds = useCauseway((s) =>
    TRACE_KINDS.filter((k) => complete(shownResult(s, which)?.grids[k])).join(","),
  );
  const [error, setError] = useState<string | null>(null);
  if (kinds === "") return null;
  return (
    <div
      className="trace__exports"
      data-testid={which === "original" ? "trace-exports" : "trace-exports-edited"}
      style={{ display: "flex", gap: 12, flexWrap: "wrap" }}
    >
      {(kinds.split(",") as TraceKind[]).map((k) => (
        <ExportMenu key={k} kind={k} which={which} onError={setError} />
      ))}
      {error ? (
        <p className="form-error" role="alert" data-testid="export-error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

function ExportMenu({
  kind,
  which,
  onError,
}: {
  kind: TraceKind;
  which: ExportWhich;
  onError: (m: string | null) => void;
}) {
  const store = useCausewayStore();
  const run = (f: (t: TraceExport, s: CausewayState) => Promise<void> | void) => async () => {
    const s = store.getState();
    const t = exportOf(shownResult(s, which), kind, which);
    if (!t) return;
    try {
      onError(null);
      await f(t, s);
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
    }
  };
  const edited = which === "edited";
  const id = edited ? `export-edited-${kind}` : `export-${kind}`;
  const base = `causeway-trace${edited ? "-edited" : ""}-${kind}`;
  const buttons: [string, string, (t: TraceExport, s: CausewayState) => Promise<void> | void][] = [
    ["svg", "SVG", (t) => downloadText(traceSvg(t), `${base}.svg`, "image/svg+xml")],
    [
      "png",
      "PNG",
      async (t) =>
        downloadBlob(
          await svgToPng(traceSvg(t), (window.devicePixelRatio || 1) * 2),
          `${base}.png`,
        ),
    ],
    ["json", "JSON", (t) => downloadText(traceJson([t]), `${base}.json`, "application/json")],
    ["csv", "CSV", (t) => downloadText(traceCsv([t]), `${base}.csv`, "text/csv")],
    [
      "python",
      "Python",
      (_t, s) =>
        downloadText(
          python(s, which),
          `causeway_trace${edited ? "_edited" : ""}.py`,
          "text/x-python",
        ),
    ],
  ];
  return (
    <details className="export-menu" data-testid={id}>
      <summary className="btn btn--ghost">
        Export {edited ? "edited " : ""}
        {KIND_TITLE[kind].toLowerCase()}
      </summary>
      <div style={{ display: "flex", gap: 4, marginTop: 4 }}>
        {buttons.map(([fmt, label, f]) => (
          <button
            key={fmt}
            type="button"
            className="btn btn--ghost"
            onClick={run(f)}
            data-testid={`${id}-${fmt}`}
          >
            {label}
          </button>
        ))}
      </div>
    </details>
  );
}
