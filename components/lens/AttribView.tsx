"use client";
/**
 * Attribution patching (lib/interp/attribution.ts) of the patching prompts: the first-order
 * estimate of activation patching for every site from one backward pass, beside exact patching
 * of the same grids (the reference), with Pearson's r between them per site.
 */
import { attribCsv } from "@/lib/export/readouts";
import type { AttributionComparison, AttributionResult } from "@/lib/interp/attribution";
import type { PatchSite } from "@/lib/interp/spec";
import { fmtInt, fmtMs } from "@/lib/viz/format";
import { useCauseway } from "../StoreProvider";
import { AttribSite, SITE_TITLE } from "./AttribSite";
import { TargetFoil, TextField } from "./fields";
import { ReadoutExports, ReadoutStatus, RunButton } from "./ReadoutRun";
import "./lens.css";

const FIELDS = [
  ["clean", "Clean prompt", ""],
  ["corrupt", "Corrupted prompt", "same number of tokens"],
  ["target", "Target", "clean top-1"],
  ["foil", "Foil", "corrupted top-1"],
] as const;

export function AttribView() {
  const patch = useCauseway((s) => s.patch.settings);
  const setPatch = useCauseway((s) => s.setPatchSettings);
  const exact = useCauseway((s) => s.readouts.settings.exact);
  const set = useCauseway((s) => s.setReadoutSettings);
  const a = useCauseway((s) => s.readouts.attrib);
  return (
    <section className="panel lens" aria-labelledby="attrib-title" data-testid="attrib-view">
      <header className="panel__head">
        <h2 id="attrib-title">Attribution patching</h2>
        <span className="panel__note">
          a first-order estimate of activation patching at every site from one backward pass,
          checked against exact patching
        </span>
      </header>
      <form
        className="lens__form lens__form--pair lens__form--prompts"
        onSubmit={(e) => e.preventDefault()}
      >
        {FIELDS.map(([key, label, placeholder]) => (
          <TextField
            key={key}
            label={label}
            value={patch[key]}
            onChange={(v) => setPatch({ [key]: v })}
            placeholder={placeholder}
            testId={`attrib-${key}`}
            wide={key === "clean" || key === "corrupt"}
          />
        ))}
        <label className="field field--check">
          <input
            type="checkbox"
            checked={exact}
            onChange={(e) => set({ exact: e.target.checked })}
            data-testid="attrib-exact"
          />{" "}
          also run exact patching of every site (the reference)
        </label>
        <RunButton type="attrib" label="Estimate" />
      </form>
      <p className="panel__note">
        The prompts are the head-patching panel's. Exact patching is the reference: each map on the
        right copies one clean activation into the corrupted run; the estimate on the left is
        (a_clean − a_corrupt) · ∂LD/∂a, both normalised so that clean = 1 and corrupted = 0.
      </p>
      <ReadoutStatus type="attrib" what="attribution patching" />
      {a.result ? (
        <>
          <AttribSummary result={a.result} exact={a.exact} />
          {(Object.keys(SITE_TITLE) as PatchSite[]).map((site) => (
            <AttribSite
              key={site}
              site={site}
              result={a.result as AttributionResult}
              comparison={a.exact.find((c) => c.site === site) ?? null}
            />
          ))}
          <ReadoutExports
            type="attrib"
            name="attribution"
            result={{ ...a.result, exact: a.exact }}
            csv={(about) => attribCsv(a.result as AttributionResult, a.exact, about)}
          />
        </>
      ) : (
        <p className="heatmap__empty">Estimate to fill this in.</p>
      )}
    </section>
  );
}

function AttribSummary({
  result: r,
  exact,
}: {
  result: AttributionResult;
  exact: AttributionComparison[];
}) {
  return (
    <div className="lens__summary">
      <dl className="facts">
        <TargetFoil target={r.target} foil={r.foil} />
        <div>
          <dt>LD clean → corrupted</dt>
          <dd>
            {r.clean_logit_diff.toFixed(3)} → {r.corrupt_logit_diff.toFixed(3)}
          </dd>
        </div>
        <div>
          <dt>estimate, every site</dt>
          <dd>{fmtMs(r.ms)}</dd>
        </div>
      </dl>
      <table className="lens__table" data-testid="attrib-correlations">
        <thead>
          <tr>
            <th>site</th>
            <th>Pearson r (estimate vs exact)</th>
            <th>exact: evaluations</th>
            <th>exact: time</th>
          </tr>
        </thead>
        <tbody>
          {exact.length === 0 ? (
            <tr>
              <td colSpan={4}>No exact patching yet: the estimate alone is not checked.</td>
            </tr>
          ) : (
            exact.map((c) => (
              <tr key={c.site} data-site={c.site} data-r={c.correlation}>
                <td>{c.site}</td>
                <td>
                  <strong>{Number.isFinite(c.correlation) ? c.correlation.toFixed(3) : "—"}</strong>
                </td>
                <td>{fmtInt(c.evaluations)}</td>
                <td>{fmtMs(c.ms)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
