"use client";
/**
 * Every head's attention pattern as a small multiple: layers down, heads across, one tiny
 * query × key heatmap per head on the same 0–1 scale (legend beside it). Hovering a head shows it
 * enlarged beside the grid; clicking pins it for the side-by-side comparison (two at most); the
 * score table's selected row is outlined here.
 */
import { interpolateBlues } from "d3";
import { useRef } from "react";
import type { AllHeadPatterns } from "@/lib/interp/head-patterns";
import type { HeadId } from "@/lib/store/heads-slice";
import { ColorBar } from "../ColorBar";
import { useElementWidth } from "../useElementWidth";
import { PatternCanvas } from "./PatternCanvas";
import { patternOf } from "./pattern-of";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const LABEL_W = 34;
const GAP = 6;
const LEGEND_W = 78;

const has = (list: readonly HeadId[], l: number, h: number) =>
  list.findIndex((p) => p.layer === l && p.head === h);

export function HeadsGrid({
  patterns,
  pinned,
  selected,
  onHover,
  onPin,
}: {
  patterns: AllHeadPatterns;
  pinned: readonly HeadId[];
  selected: HeadId | null;
  onHover(h: HeadId | null): void;
  onPin(h: HeadId): void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const width = useElementWidth(ref, 420);
  const { nLayer: L, nHead: H, tokens } = patterns;
  const T = tokens.length;
  const fit = Math.floor((width - LABEL_W - LEGEND_W) / H) - GAP;
  const size = Math.max(28, Math.min(76, fit));
  const legendH = Math.min(200, Math.max(80, L * (size + GAP) - 30));
  return (
    <div className="heads-grid" ref={ref} data-testid="heads-grid" data-layers={L} data-heads={H}>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: leaving the grid ends the hover preview; the cells are buttons */}
      <div
        className="heads-grid__cells"
        style={{ gridTemplateColumns: `${LABEL_W}px repeat(${H}, ${size + GAP}px)` }}
        onMouseLeave={() => onHover(null)}
      >
        <span />
        {range(H).map((h) => (
          <span key={`h${h}`} className="heads-grid__col axis__tick">
            H{h}
          </span>
        ))}
        {range(L).map((l) => [
          <span key={`l${l}`} className="heads-grid__row axis__tick">
            L{l}
          </span>,
          ...range(H).map((h) => {
            const pin = has(pinned, l, h);
            const isSel = selected?.layer === l && selected?.head === h;
            const pattern = patternOf(patterns, l, h);
            return (
              <button
                type="button"
                key={`${l}-${h}`}
                className={`heads-grid__cell${pin >= 0 ? " heads-grid__cell--pinned" : ""}${isSel ? " heads-grid__cell--selected" : ""}`}
                data-testid="heads-cell"
                data-layer={l}
                data-head={h}
                aria-pressed={pin >= 0}
                aria-label={`layer ${l} head ${h}${pin >= 0 ? ", pinned" : ""}: click to ${pin >= 0 ? "unpin" : "pin"}`}
                title={`L${l} H${h} — click to ${pin >= 0 ? "unpin" : "pin and compare"}`}
                onMouseEnter={() => onHover({ layer: l, head: h })}
                onFocus={() => onHover({ layer: l, head: h })}
                onClick={() => onPin({ layer: l, head: h })}
              >
                {pattern ? (
                  <PatternCanvas pattern={pattern} T={T} size={size} label={`L${l} H${h}`} />
                ) : null}
                {pin >= 0 ? <span className="heads-grid__badge">{pin + 1}</span> : null}
              </button>
            );
          }),
        ])}
      </div>
      <svg
        width={LEGEND_W}
        height={legendH + 24}
        className="heads-grid__legend"
        role="img"
        aria-label="colour scale: attention weight from 0 to 1"
      >
        <ColorBar
          interpolate={interpolateBlues}
          domain={[0, 1]}
          height={legendH}
          top={14}
          label="attention weight"
          testId="heads-legend"
        />
      </svg>
    </div>
  );
}
