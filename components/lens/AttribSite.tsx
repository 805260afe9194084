"use client";
/**
 * One patching site of the attribution view: the estimate's map, exact patching's map on the
 * same colour scale (the reference), and the scatter of one against the other with Pearson's r.
 * Grids by position are drawn as the trace draws them (tokens down the side, layers along);
 * heads by position get a map only while layers × heads stays small (else the scatter alone).
 * A click opens the edit form of that component, as a trace cell does.
 */
import { useMemo } from "react";
import type { AttributionComparison, AttributionResult } from "@/lib/interp/attribution";
import type { PatchSite } from "@/lib/interp/spec";
import { fmtSigned, visibleToken } from "@/lib/viz/format";
import type { EditSiteKind } from "../edit-forms/registry";
import { formForSite } from "../edit-forms/registry";
import { useCauseway } from "../StoreProvider";
import { CellGrid } from "./CellGrid";
import { diverging } from "./diverging";
import { Scatter } from "./Scatter";

export const SITE_TITLE: Record<PatchSite, string> = {
  resid_pre: "Residual stream (resid_pre), layer × position",
  attn_out: "Attention output, layer × position",
  mlp_out: "MLP output, layer × position",
  head_out: "Heads (all positions), layer × head",
  head_out_pos: "Heads by position, layer × position × head",
};

/** Most layer × head columns drawn for heads by position. */
const MAX_HEAD_POS_COLS = 64;

const EDIT_KIND: Record<PatchSite, EditSiteKind> = {
  resid_pre: "hidden",
  attn_out: "attn",
  mlp_out: "mlp",
  head_out: "head",
  head_out_pos: "head",
};

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);

interface Shape {
  rowLabels: string[];
  colLabels: string[];
  rowTitle: string;
  colTitle: string;
  /** The site's scores (estimate or exact) as the drawn [rows][cols]. */
  grid(scores: unknown): number[][];
  /** The component of drawn cell (row, col). */
  at(row: number, col: number): { layer: number; position?: number; head?: number };
}

function shapeOf(site: PatchSite, r: AttributionResult): Shape | null {
  const T = r.clean_tokens.length;
  const { n_layer: L, n_head: H } = r;
  const tokens = r.clean_tokens.map(visibleToken);
  const layers = range(L).map(String);
  if (site === "head_out") {
    return {
      rowLabels: layers.map((l) => `L${l}`),
      colLabels: range(H).map((h) => `H${h}`),
      rowTitle: "layer",
      colTitle: "head",
      grid: (s) => s as number[][],
      at: (l, h) => ({ layer: l, head: h }),
    };
  }
  if (site === "head_out_pos") {
    if (L * H > MAX_HEAD_POS_COLS) return null;
    return {
      rowLabels: tokens,
      colLabels: range(L * H).map((i) => `${Math.floor(i / H)}.${i % H}`),
      rowTitle: "position",
      colTitle: "layer.head",
      grid: (s) =>
        range(T).map((t) =>
          range(L * H).map((i) => (s as number[][][])[Math.floor(i / H)][t][i % H]),
        ),
      at: (t, i) => ({ layer: Math.floor(i / H), head: i % H, position: t }),
    };
  }
  return {
    rowLabels: tokens,
    colLabels: layers,
    rowTitle: "position",
    colTitle: "layer",
    grid: (s) => range(T).map((t) => range(L).map((l) => (s as number[][])[l][t])),
    at: (t, l) => ({ layer: l, position: t }),
  };
}

export function AttribSite({
  site,
  result,
  comparison,
}: {
  site: PatchSite;
  result: AttributionResult;
  comparison: AttributionComparison | null;
}) {
  const open = useCauseway((s) => s.openEditForm);
  const prompt = useCauseway((s) => s.readouts.attrib.job?.clean ?? "");
  const shape = useMemo(() => shapeOf(site, result), [site, result]);
  const estimate = result.scores[site];
  const colours = useMemo(
    () => diverging([...flat(estimate), ...flat(comparison?.exact ?? [])], "normalised LD"),
    [estimate, comparison],
  );
  const form = formForSite(EDIT_KIND[site]);
  const click =
    shape && form
      ? (row: number, col: number) =>
          open({ form: form.id, site: { ...shape.at(row, col), kind: EDIT_KIND[site] }, prompt })
      : undefined;
  const map = (which: "estimate" | "exact", scores: unknown) =>
    shape ? (
      <div
        className={`lens__site-map${shape.colLabels.length > 12 ? " lens__site-map--wide" : ""}`}
      >
        <h4 className="lens__sub">
          {which === "exact" ? "Exact patching (reference)" : "Estimate (attribution patching)"}
        </h4>
        <CellGrid
          values={shape.grid(scores)}
          rowLabels={shape.rowLabels}
          colLabels={shape.colLabels}
          rowTitle={shape.rowTitle}
          colTitle={shape.colTitle}
          {...colours}
          maxCellW={40}
          onCellClick={click}
          tooltip={(row, col) => {
            const c = shape.at(row, col);
            const e = comparison ? shape.grid(comparison.exact)[row][col] : null;
            return (
              <>
                <div className="tooltip__head">
                  <span>
                    layer {c.layer}
                    {c.head !== undefined ? ` · head ${c.head}` : ""}
                    {c.position !== undefined ? ` · token ${c.position}` : ""}
                  </span>
                </div>
                <div className="tooltip__row">
                  <span>estimate</span>
                  <strong>{fmtSigned(shape.grid(estimate)[row][col])}</strong>
                </div>
                {e !== null ? (
                  <div className="tooltip__row">
                    <span>exact</span>
                    <strong>{fmtSigned(e)}</strong>
                  </div>
                ) : null}
              </>
            );
          }}
          testId={`attrib-${which}-${site}`}
        />
      </div>
    ) : null;
  return (
    <section className="lens__site" data-testid={`attrib-site-${site}`}>
      <h3 className="lens__sub">{SITE_TITLE[site]}</h3>
      <div className="lens__site-row">
        {map("estimate", estimate)}
        {comparison ? map("exact", comparison.exact) : null}
        {comparison ? (
          <Scatter
            exact={flat(comparison.exact)}
            estimate={flat(estimate)}
            r={comparison.correlation}
            testId={`attrib-scatter-${site}`}
          />
        ) : null}
      </div>
    </section>
  );
}
