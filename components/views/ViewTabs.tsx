"use client";
/**
 * The results area: one tab per view of ./registry.tsx, each with its last run's summary, and
 * the open view's panel. Every panel stays mounted (hidden when not open) so that its forms and
 * results survive a tab switch. When a run starts, its view opens and comes into sight, except
 * while a shared link's own tab is open (the link's recompute must not move it).
 */
import { useEffect, useRef } from "react";
import type { CausewayState, RunInfo } from "@/lib/store";
import { useCauseway, useCausewayStore } from "../StoreProvider";
import { VIEWS, viewById } from "./registry";
import "./views.css";

/** The view whose run started between `prev` and `s`, if any. */
function startedView(s: CausewayState, prev: CausewayState): string | null {
  const started = (a: RunInfo, b: RunInfo | undefined) =>
    a.status === "running" && a.reqId !== 0 && a.reqId !== b?.reqId;
  for (const v of VIEWS) {
    if (!v.runs) continue;
    const now = v.runs(s);
    const before = v.runs(prev);
    if (now.some((r, i) => started(r, before[i]))) return v.id;
  }
  return null;
}

export function ViewTabs() {
  const store = useCausewayStore();
  const tab = useCauseway((s) => s.view.tab);
  const setView = useCauseway((s) => s.setView);
  const ref = useRef<HTMLDivElement>(null);
  const active = viewById(tab) ?? VIEWS[0];

  useEffect(
    () =>
      store.subscribe((s, prev) => {
        const id = startedView(s, prev);
        if (!id || s.view.by === "link") return;
        if (s.view.tab !== id) s.setView(id, "run");
        // the results land under the tabs: the tabs go to the top of the window, so that the
        // form and the results below it are in sight
        const box = ref.current?.getBoundingClientRect();
        if (box && (box.top < 0 || box.top > 24)) {
          ref.current?.scrollIntoView?.({ block: "start" });
        }
      }),
    [store],
  );

  return (
    <div className="views" ref={ref} data-testid="views" data-view={active.id}>
      <div className="views__tabs" role="tablist" aria-label="Results">
        {VIEWS.map((v) => {
          const on = v.id === active.id;
          return (
            <button
              key={v.id}
              type="button"
              role="tab"
              id={`tab-${v.id}`}
              aria-selected={on}
              aria-controls={`view-${v.id}`}
              tabIndex={on ? 0 : -1}
              className={`tab${on ? " tab--on" : ""}`}
              data-testid={`tab-${v.id}`}
              onClick={() => setView(v.id, "user")}
              onKeyDown={(e) => {
                const i = VIEWS.findIndex((x) => x.id === v.id);
                const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
                if (step === 0) return;
                e.preventDefault();
                const next = VIEWS[(i + step + VIEWS.length) % VIEWS.length];
                setView(next.id, "user");
                document.getElementById(`tab-${next.id}`)?.focus();
              }}
            >
              <span className="tab__label">{v.label}</span>
              <span className="tab__line">{v.Summary ? <v.Summary /> : null}</span>
            </button>
          );
        })}
      </div>
      {VIEWS.map((v) => (
        <div
          key={v.id}
          role="tabpanel"
          id={`view-${v.id}`}
          aria-labelledby={`tab-${v.id}`}
          hidden={v.id !== active.id}
          className="views__panel"
        >
          <v.Component />
        </div>
      ))}
    </div>
  );
}
