"use client";
/**
 * One head's attention pattern (blocks.{l}.attn.hook_pattern) on a prompt, as a query × key
 * matrix: row q shows how query token q spreads its attention over the keys 0 … q (causal, so
 * the upper triangle is empty). Positions from d3 band scales; colours from Blues.
 */
import { interpolateBlues, scaleBand } from "d3";
import { useMemo, useState } from "react";
import type { AttentionState } from "@/lib/store";
import { visibleToken } from "@/lib/viz/format";
import { monoWidth } from "@/lib/viz/layout";
import { textOn } from "@/lib/viz/scales";

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export function AttentionView({
  attention,
  caption = "attention pattern on the clean prompt",
  testId,
}: {
  attention: AttentionState | null;
  /** The line beside the head's name once the pattern is shown. */
  caption?: string;
  /** Another view's copy (components/heads): "<testId>" and "<testId>-matrix". */
  testId?: string;
}) {
  const ids = testId
    ? { view: testId, matrix: `${testId}-matrix` }
    : { view: "attention-view", matrix: "attention-matrix" };
  const [hover, setHover] = useState<{ q: number; k: number } | null>(null);
  const tokens = attention?.tokens ?? null;
  const pattern = attention?.status === "ok" ? attention.pattern : null;
  const T = tokens?.length ?? 0;
  const labels = useMemo(() => (tokens ?? []).map((t) => visibleToken(t)), [tokens]);
  const labelW = Math.min(110, Math.max(24, ...labels.map((l) => monoWidth(l, 11.5)))) + 8;
  const cell = T > 0 ? Math.max(12, Math.min(30, Math.floor(320 / T))) : 20;
  const top = labelW * 0.75 + 10;
  const x = useMemo(
    () =>
      scaleBand<number>()
        .domain(Array.from({ length: T }, (_, i) => i))
        .range([labelW, labelW + cell * T]),
    [T, labelW, cell],
  );
  const y = useMemo(
    () =>
      scaleBand<number>()
        .domain(Array.from({ length: T }, (_, i) => i))
        .range([top, top + cell * T]),
    [T, top, cell],
  );

  if (!attention) {
    return (
      <div className="attn attn--empty" data-testid={ids.view} data-status="idle">
        <p>Click a head in the grid to see where it attends on the clean prompt.</p>
      </div>
    );
  }
  const { layer, head, status } = attention;
  return (
    <div
      className="attn"
      data-testid={ids.view}
      data-status={status}
      data-layer={layer}
      data-head={head}
      data-tokens={T}
    >
      <div className="attn__head">
        <strong>
          Layer {layer}, head {head}
        </strong>
        <span>
          {status === "pending"
            ? "computing…"
            : status === "error"
              ? attention.error?.message
              : caption}
        </span>
      </div>
      {tokens && pattern ? (
        <svg
          width={labelW + cell * T + 8}
          height={top + cell * T + 30}
          role="img"
          aria-label={`Attention pattern of layer ${layer} head ${head}`}
          data-testid={ids.matrix}
        >
          {labels.map((l, k) => (
            <text
              // biome-ignore lint/suspicious/noArrayIndexKey: tokens repeat; position is the identity
              key={`k${k}`}
              transform={`translate(${(x(k) ?? 0) + cell / 2},${top - 6}) rotate(-50)`}
              className={`axis__token${hover?.k === k ? " axis__token--hot" : ""}`}
            >
              {l}
            </text>
          ))}
          {labels.map((l, q) => (
            <text
              // biome-ignore lint/suspicious/noArrayIndexKey: tokens repeat; position is the identity
              key={`q${q}`}
              x={labelW - 6}
              y={(y(q) ?? 0) + cell / 2}
              dy="0.32em"
              textAnchor="end"
              className={`axis__token${hover?.q === q ? " axis__token--hot" : ""}`}
            >
              {l}
            </text>
          ))}
          {range(T).map((q) =>
            range(q + 1).map((k) => {
              const v = pattern[q * T + k];
              const fill = interpolateBlues(Math.min(1, Math.max(0, v)));
              return (
                // biome-ignore lint/a11y/noStaticElementInteractions: hover readout only; the values are also in each cell's <title>
                <rect
                  key={`${q}-${k}`}
                  x={(x(k) ?? 0) + 0.5}
                  y={(y(q) ?? 0) + 0.5}
                  width={cell - 1}
                  height={cell - 1}
                  fill={fill}
                  onMouseEnter={() => setHover({ q, k })}
                  onMouseLeave={() => setHover(null)}
                >
                  <title>{`${labels[q]} → ${labels[k]}: ${v.toFixed(3)}`}</title>
                </rect>
              );
            }),
          )}
          {hover && cell >= 22 ? (
            <text
              x={(x(hover.k) ?? 0) + cell / 2}
              y={(y(hover.q) ?? 0) + cell / 2}
              dy="0.32em"
              textAnchor="middle"
              className="attn__value"
              fill={textOn(interpolateBlues(pattern[hover.q * T + hover.k]))}
              pointerEvents="none"
            >
              {pattern[hover.q * T + hover.k].toFixed(2).replace(/^0\./, ".")}
            </text>
          ) : null}
          <text x={labelW} y={top + cell * T + 20} className="axis__label">
            rows: query · columns: key
          </text>
        </svg>
      ) : null}
    </div>
  );
}
