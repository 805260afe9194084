"use client";
/**
 * All heads at a glance (issue 13, item 1): every head's attention pattern on the prompt as a
 * small multiple (layers × heads), hover to enlarge, click to pin and compare two side by side;
 * the per-head scores in a sortable table with their definitions, whose selected row is outlined
 * in the grid; JSON / CSV export of the scores (the CLI's `causeway heads --json` fields). Runs
 * on the loaded model without edits, as the CLI does (lib/store/heads-slice.ts).
 */
import { useState } from "react";
import { headScoresCsv, headScoresJson } from "@/lib/export/head-scores";
import { modelAbout } from "@/lib/export/model-about";
import type { HeadId } from "@/lib/store/heads-slice";
import { headsCurrent } from "@/lib/store/heads-slice";
import { isActive } from "@/lib/store/run";
import { downloadText } from "../download";
import { useCauseway } from "../StoreProvider";
import { useModelBlocked } from "../use-model-blocked";
import { HeadScoreTable } from "./HeadScoreTable";
import { HeadPattern, HeadsCompare } from "./HeadsCompare";
import { HeadsGrid } from "./HeadsGrid";
import { HeadsRunLine } from "./HeadsRunLine";
import "./heads.css";

export function AllHeadsView() {
  const heads = useCauseway((s) => s.heads);
  const current = useCauseway(headsCurrent);
  const blocked = useModelBlocked();
  const prompt = useCauseway((s) => s.predict.prompt);
  const modelName = useCauseway((s) => s.model.info?.name ?? "model");
  const backend = useCauseway((s) => s.model.backend);
  const info = useCauseway((s) => s.model.info);
  const source = useCauseway((s) => s.model.source);
  const runHeads = useCauseway((s) => s.runHeads);
  const pinHead = useCauseway((s) => s.pinHead);
  const sortHeads = useCauseway((s) => s.sortHeads);
  const highlightHead = useCauseway((s) => s.highlightHead);
  const [hover, setHover] = useState<HeadId | null>(null);
  const patterns = current ? heads.patterns : null;
  const scores = current ? heads.scores : null;
  const req = heads.request;
  const shown = hover ?? heads.selected;
  const pin = (h: HeadId) => pinHead(h.layer, h.head);
  const subject =
    req?.subject && patterns
      ? patterns.tokens.slice(req.subject[0], req.subject[1]).join("").trim()
      : null;
  const file = `heads-${modelName.replace(/[^\w.-]+/g, "_")}`;

  return (
    <section className="panel heads" aria-labelledby="heads-title" data-testid="heads-view">
      <header className="panel__head">
        <h2 id="heads-title">All heads</h2>
        <span className="panel__note">
          every head's attention pattern on the prompt, and what each head tends to do
        </span>
      </header>
      <div className="heads__actions">
        <button
          type="button"
          className="btn btn--primary"
          onClick={runHeads}
          disabled={blocked !== null || (current && isActive(heads.run))}
          title={blocked ?? undefined}
          data-testid="heads-run"
        >
          {scores ? "Recompute heads" : "Compute heads"}
        </button>
        <div className="heads__export">
          <button
            type="button"
            className="btn btn--ghost"
            disabled={!scores}
            onClick={() =>
              scores &&
              downloadText(
                headScoresJson(scores, {
                  ...(info ? { model: modelAbout(info, source) } : {}),
                  ...(backend ? { backend } : {}),
                }),
                `${file}.json`,
                "application/json",
              )
            }
            data-testid="heads-export-json"
          >
            Scores JSON
          </button>
          <button
            type="button"
            className="btn btn--ghost"
            disabled={!scores}
            onClick={() => scores && downloadText(headScoresCsv(scores), `${file}.csv`, "text/csv")}
            data-testid="heads-export-csv"
          >
            Scores CSV
          </button>
        </div>
      </div>
      {heads.formError ? (
        <p className="form-error" role="alert" data-testid="heads-form-error">
          {heads.formError.message}
        </p>
      ) : null}
      <HeadsRunLine run={heads.run} current={current} />
      {req && patterns ? (
        <p className="heads__about" data-testid="heads-about">
          On “{req.prompt}”{req.prompt !== prompt ? " (the prompt has changed since)" : ""} ·{" "}
          {subject !== null
            ? `subject “${subject}” (tokens ${req.subject?.[0]}–${(req.subject?.[1] ?? 0) - 1})`
            : "no subject chosen (pick one on the token strip for the subject score)"}{" "}
          · the loaded model without edits
        </p>
      ) : null}
      {patterns?.note ? <p className="heads-hint">{patterns.note}</p> : null}
      {patterns?.patterns ? (
        <div className="heads__body">
          <HeadsGrid
            patterns={patterns}
            pinned={heads.view.pinned}
            selected={heads.selected}
            onHover={setHover}
            onPin={pin}
          />
          <div className="heads__preview" data-testid="heads-preview">
            {shown ? (
              <HeadPattern
                patterns={patterns}
                head={shown}
                prompt={req?.prompt ?? ""}
                caption={hover ? "under the pointer" : "selected in the table"}
                testId="heads-enlarged"
              />
            ) : (
              <p className="heads-hint">Hover a head to enlarge it; click it to pin it.</p>
            )}
          </div>
        </div>
      ) : !req || !current ? (
        <p className="heads-hint heads-hint--box">
          {req && !current
            ? "These heads were computed on another model: compute them again."
            : "Compute every head's attention pattern and the per-head scores on the prompt above."}
        </p>
      ) : null}
      {patterns?.patterns ? (
        <HeadsCompare
          patterns={patterns}
          pinned={heads.view.pinned}
          prompt={req?.prompt ?? ""}
          onUnpin={pin}
        />
      ) : null}
      {scores ? (
        <HeadScoreTable
          result={scores}
          view={heads.view}
          selected={heads.selected}
          onSort={sortHeads}
          onSelect={(h) =>
            highlightHead(
              heads.selected?.layer === h.layer && heads.selected?.head === h.head ? null : h,
            )
          }
          onPin={pin}
        />
      ) : null}
    </section>
  );
}
