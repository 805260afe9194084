"use client";
/**
 * Heads enlarged with their token labels (components/AttentionView): the one under the pointer
 * (or the table's selected row), and the pinned heads side by side.
 */
import type { AllHeadPatterns } from "@/lib/interp/head-patterns";
import type { HeadId } from "@/lib/store/heads-slice";
import { AttentionView } from "../AttentionView";
import { patternOf } from "./pattern-of";

export function HeadPattern({
  patterns,
  head,
  prompt,
  caption,
  testId,
}: {
  patterns: AllHeadPatterns;
  head: HeadId;
  prompt: string;
  caption: string;
  testId: string;
}) {
  const attention = {
    status: "ok" as const,
    layer: head.layer,
    head: head.head,
    prompt,
    tokens: patterns.tokens,
    pattern: patternOf(patterns, head.layer, head.head),
    error: null,
  };
  return <AttentionView attention={attention} caption={caption} testId={testId} />;
}

export function HeadsCompare({
  patterns,
  pinned,
  prompt,
  onUnpin,
}: {
  patterns: AllHeadPatterns;
  pinned: readonly HeadId[];
  prompt: string;
  onUnpin(h: HeadId): void;
}) {
  if (pinned.length === 0) {
    return (
      <p className="heads-hint" data-testid="heads-compare" data-pinned={0}>
        Click heads in the grid (or “pin” in the table) to compare two side by side.
      </p>
    );
  }
  return (
    <div className="heads-compare" data-testid="heads-compare" data-pinned={pinned.length}>
      {pinned.map((h, i) => (
        <div key={`${h.layer}-${h.head}`} className="heads-compare__one">
          <HeadPattern
            patterns={patterns}
            head={h}
            prompt={prompt}
            caption={`pinned ${i + 1}`}
            testId={`heads-pinned-${i + 1}`}
          />
          <button type="button" className="btn btn--ghost" onClick={() => onUnpin(h)}>
            Unpin L{h.layer} H{h.head}
          </button>
        </div>
      ))}
    </div>
  );
}
