"use client";
/**
 * The prompt as the model sees it: one chip per token, whitespace made visible. The subject of
 * the causal trace is chosen here: click a token, drag over several (or shift-click to extend),
 * or type it in the subject box (the span covering its first occurrence).
 */
import { useEffect, useRef, useState } from "react";
import { currentTokens } from "@/lib/store";
import { rangeText } from "@/lib/viz/format";
import { inRange, spanBetween } from "@/lib/viz/selection";
import { visibleToken } from "./format";
import { useCauseway } from "./StoreProvider";

export function TokenStrip() {
  const result = useCauseway((s) => s.predict.result);
  const stale = useCauseway((s) => s.predict.status !== "ok");
  const tokens = useCauseway(currentTokens);
  const prompt = useCauseway((s) => s.predict.prompt);
  const settings = useCauseway((s) => s.trace.settings);
  const subjectError = useCauseway((s) => s.trace.subjectError);
  const selectSubjectRange = useCauseway((s) => s.selectSubjectRange);
  const setSubjectText = useCauseway((s) => s.setSubjectText);

  const anchor = useRef<number | null>(null);
  const [drag, setDrag] = useState<[number, number] | null>(null);
  const dragRef = useRef<[number, number] | null>(null);

  useEffect(() => {
    const end = () => {
      if (anchor.current === null) return;
      anchor.current = null;
      const r = dragRef.current;
      dragRef.current = null;
      setDrag(null);
      if (r) selectSubjectRange(r);
    };
    window.addEventListener("pointerup", end);
    window.addEventListener("pointercancel", end);
    return () => {
      window.removeEventListener("pointerup", end);
      window.removeEventListener("pointercancel", end);
    };
  }, [selectSubjectRange]);

  const chosen =
    settings.subjectRange && settings.subjectPrompt === prompt ? settings.subjectRange : null;
  const shown = drag ?? chosen;
  const selectable = tokens !== null;

  const setRange = (r: [number, number]) => {
    dragRef.current = r;
    setDrag(r);
  };

  return (
    <div className={`tokens${stale ? " tokens--stale" : ""}`} data-testid="token-strip">
      <div className="tokens__head">
        <span className="eyebrow">Tokens</span>
        <span className="tokens__hint">
          {selectable ? "click or drag over tokens to mark the subject" : ""}
        </span>
      </div>
      {result ? (
        <ol
          className={`tokens__list${selectable ? " tokens__list--selectable" : ""}`}
          aria-label="Prompt tokens; click or drag to choose the subject"
        >
          {result.inputTokens.map((tok, i) => (
            <li
              // biome-ignore lint/suspicious/noArrayIndexKey: tokens repeat; position is the identity
              key={i}
              className={`tokens__tok${inRange(shown, i) ? " tokens__tok--subject" : ""}`}
              title={`position ${i} · id ${result.inputIds[i]}`}
              data-testid="input-token"
              data-index={i}
              data-subject={inRange(shown, i) ? "true" : undefined}
              onPointerDown={(e) => {
                if (!selectable || e.button !== 0) return;
                e.preventDefault();
                if (e.shiftKey && chosen) {
                  anchor.current = chosen[0] <= i ? chosen[0] : chosen[1] - 1;
                } else {
                  anchor.current = i;
                }
                setRange(spanBetween(anchor.current, i));
              }}
              onPointerEnter={() => {
                if (anchor.current !== null) setRange(spanBetween(anchor.current, i));
              }}
            >
              {visibleToken(tok)}
            </li>
          ))}
        </ol>
      ) : null}
      <div className="subject">
        <label className="subject__label" htmlFor="subject-input">
          Subject
        </label>
        <input
          id="subject-input"
          className={`subject__input${subjectError ? " subject__input--error" : ""}`}
          value={settings.subjectText}
          onChange={(e) => setSubjectText(e.target.value)}
          placeholder="e.g. the name in the prompt"
          spellCheck={false}
          aria-invalid={subjectError !== null}
          aria-describedby="subject-help"
          data-testid="subject-input"
        />
        <span
          id="subject-help"
          className={subjectError ? "subject__error" : "subject__range"}
          data-testid={subjectError ? "subject-error" : "subject-range"}
          data-code={subjectError?.code}
          data-range={chosen ? chosen.join(",") : undefined}
          role={subjectError ? "alert" : undefined}
        >
          {subjectError
            ? subjectError.message
            : chosen
              ? `${rangeText(chosen)}${settings.corruption === "noise" ? " · noised in the trace" : ""}`
              : settings.subjectText.trim()
                ? "found when the tokens are known"
                : "not chosen"}
        </span>
      </div>
    </div>
  );
}
