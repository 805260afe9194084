"use client";
import { positionsCsv, positionsJson } from "@/lib/export/patching";
/**
 * Patching by position: copy one clean activation at one position into the corrupted run —
 * the residual stream, an attention or MLP output (layer × position), or one head's output
 * ((layer, head) × position) — and score the normalised logit difference (clean 1, corrupted 0).
 * A cell opens the matching edit form, as on the trace's maps.
 */
import type { TraceKind } from "@/lib/interp/spec";
import { POSITION_SITES, type PositionSite } from "@/lib/store/positions-slice";
import { formForSite } from "../edit-forms/registry";
import { RunLine } from "../RunLine";
import { useCauseway } from "../StoreProvider";
import { useModelBlocked } from "../use-model-blocked";
import { GridExport } from "./GridExport";
import { PatchGrid } from "./PatchGrid";
import { PatchPrompts } from "./PatchPrompts";

const SITE_LABEL: Record<PositionSite, string> = {
  resid_pre: "Residual stream",
  attn_out: "Attention output",
  mlp_out: "MLP output",
  head_out_pos: "Each head",
};
/** The trace kind whose edit form a cell of this site opens. */
const SITE_KIND: Record<Exclude<PositionSite, "head_out_pos">, TraceKind> = {
  resid_pre: "hidden",
  attn_out: "attn",
  mlp_out: "mlp",
};

export function PositionsView() {
  const site = useCauseway((s) => s.positions.site);
  const run = useCauseway((s) => s.positions.run);
  const result = useCauseway((s) => s.positions.result);
  const formError = useCauseway((s) => s.positions.formError);
  const blocked = useModelBlocked();
  const setSite = useCauseway((s) => s.setPositionSite);
  const runPositions = useCauseway((s) => s.runPositions);
  const open = useCauseway((s) => s.openEditForm);
  const backend = useCauseway((s) => s.model.backend);
  const clean = useCauseway((s) => s.patch.settings.clean);
  const b = result?.baseline ?? null;
  const H = b?.nHead ?? 1;
  const perHead = result?.site === "head_out_pos";
  const onCell = (row: number, col: number) => {
    if (!result) return;
    if (result.site === "head_out_pos") {
      const layer = Math.floor(col / H);
      open({ form: "head", site: { layer, head: col % H, kind: "head" }, prompt: clean });
      return;
    }
    const kind = SITE_KIND[result.site];
    const entry = formForSite(kind);
    if (entry) open({ form: entry.id, site: { layer: col, position: row, kind }, prompt: clean });
  };
  return (
    <section
      className="panel patching"
      aria-labelledby="positions-title"
      data-testid="positions-panel"
    >
      <header className="panel__head">
        <h2 id="positions-title">Patching by position</h2>
        <span className="panel__note">
          copy one clean activation at one position into the corrupted run
        </span>
      </header>
      <PatchPrompts />
      <form
        className="patching__form"
        onSubmit={(e) => {
          e.preventDefault();
          runPositions();
        }}
      >
        <fieldset className="patching__sites">
          <legend className="field__label">Patch</legend>
          {POSITION_SITES.map((x) => (
            <label key={x} className="check">
              <input
                type="radio"
                name="position-site"
                checked={site === x}
                onChange={() => setSite(x)}
                data-testid={`position-site-${x}`}
              />
              {SITE_LABEL[x]}
            </label>
          ))}
        </fieldset>
        <button
          type="submit"
          className="btn btn--primary"
          disabled={blocked !== null}
          title={blocked ?? undefined}
          data-testid="run-positions"
        >
          Patch by position
        </button>
      </form>
      {formError ? (
        <p className="form-error" role="alert" data-testid="positions-form-error">
          {formError.message}
        </p>
      ) : null}
      <RunLine run={run} what="patching" owner="positions" />
      <GridExport
        file={`positions-${result?.site ?? site}`}
        testId="positions"
        files={
          result?.baseline && result.values
            ? {
                json: () => positionsJson(result, run, backend ? { backend } : {}),
                csv: () => positionsCsv(result),
              }
            : null
        }
      />
      {b && result?.values ? (
        <PatchGrid
          testId="positions-grid"
          values={result.values}
          rows={b.cleanTokens.length}
          cols={result.width}
          rowLabels={b.cleanTokens}
          group={perHead ? H : 1}
          colLabel={(c) => (perHead ? `L${Math.floor(c / H)}` : `L${c}`)}
          cellName={(r, c) =>
            `${perHead ? `L${Math.floor(c / H)}H${c % H}` : `L${c}`} at “${b.cleanTokens[r]}”`
          }
          onCellClick={onCell}
          caption={`${SITE_LABEL[result.site]}, ${b.target.token} vs ${b.foil.token}: normalised logit difference (1 = clean restored, 0 = still corrupted); click a cell to edit there`}
        />
      ) : (
        <p className="heatmap__empty">
          {run.status === "running"
            ? "Running the clean and corrupted prompts…"
            : "Patch by position to fill in the grid."}
        </p>
      )}
    </section>
  );
}
