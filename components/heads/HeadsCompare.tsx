"use client";
/**
 * Heads enlarged with their token labels (components/AttentionView): the one under the pointer
 * (or the table's selected row), and the pinned heads side by side, each with a button that
 * opens the head edit form.
 */
import type { AllHeadPatterns } from "@/lib/interp/head-patterns";
import type { HeadId } from "@/lib/store/heads-slice";
import { AttentionView } from "../AttentionView";
import { useCauseway } from "../StoreProvider";
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
  // the head edit form (components/EditPanel): ablate, scale or steer this head
  const openEdit = useCauseway((s) => s.openEditForm);
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
          <div className="heads-compare__actions">
            <button type="button" className="btn btn--ghost" onClick={() => onUnpin(h)}>
              Unpin
            </button>
            <button
              type="button"
              className="btn btn--ghost"
              onClick={() => openEdit({ form: "head", site: { ...h, kind: "head" }, prompt })}
              data-testid={`heads-edit-${i + 1}`}
            >
              Edit head L{h.layer}H{h.head}…
            </button>
          </div>
        </div>
      ))}
    </div>
  );
}
