"use client";
/**
 * The per-head scores (lib/interp/head-scores.ts) as a sortable table: one row per head, one
 * column per score (click a header to sort, again to flip), each with its one-sentence
 * definition below; a row's click selects the head (outlined in the grid), its pin button pins it.
 */
import {
  HEAD_SCORE_DEFINITIONS,
  HEAD_SCORE_NAMES,
  type HeadScoreName,
  type HeadScoresResult,
} from "@/lib/interp/head-scores";
import type { HeadId, HeadSortKey, HeadsView } from "@/lib/store/heads-slice";

export const SCORE_TITLE: Record<HeadScoreName, string> = {
  previous_token: "previous token",
  first_token: "first token",
  subject: "subject",
  duplicate_token: "duplicate token",
  induction: "induction",
};

interface Row extends HeadId {
  values: (number | null)[];
}

function rowsOf(r: HeadScoresResult, view: HeadsView): Row[] {
  const rows: Row[] = [];
  for (let layer = 0; layer < r.n_layer; layer++) {
    for (let head = 0; head < r.n_head; head++) {
      rows.push({
        layer,
        head,
        values: HEAD_SCORE_NAMES.map((n) => r.scores[n]?.[layer][head] ?? null),
      });
    }
  }
  const col = HEAD_SCORE_NAMES.indexOf(view.sort as HeadScoreName);
  const key = (x: Row) => (col < 0 ? x.layer * r.n_head + x.head : (x.values[col] ?? -Infinity));
  const sign = view.desc ? -1 : 1;
  // ties (and a column of nulls) keep the model's order
  return rows.sort((a, b) => sign * (key(a) - key(b)) || a.layer - b.layer || a.head - b.head);
}

export function HeadScoreTable({
  result,
  view,
  selected,
  onSort,
  onSelect,
  onPin,
}: {
  result: HeadScoresResult;
  view: HeadsView;
  selected: HeadId | null;
  onSort(key: HeadSortKey): void;
  onSelect(h: HeadId): void;
  onPin(h: HeadId): void;
}) {
  const rows = rowsOf(result, view);
  const ariaSort = (key: HeadSortKey) =>
    view.sort === key ? (view.desc ? "descending" : "ascending") : "none";
  const arrow = (key: HeadSortKey) => (view.sort === key ? (view.desc ? " ▼" : " ▲") : "");
  return (
    <div className="heads-table">
      <div className="heads-table__scroll">
        <table data-testid="heads-table" data-sort={view.sort} data-desc={view.desc}>
          <thead>
            <tr>
              <th aria-sort={ariaSort("head")}>
                <button type="button" onClick={() => onSort("head")} data-testid="heads-sort-head">
                  head{arrow("head")}
                </button>
              </th>
              {HEAD_SCORE_NAMES.map((n) => (
                <th key={n} aria-sort={ariaSort(n)} title={HEAD_SCORE_DEFINITIONS[n]}>
                  <button type="button" onClick={() => onSort(n)} data-testid={`heads-sort-${n}`}>
                    {SCORE_TITLE[n]}
                    {arrow(n)}
                  </button>
                </th>
              ))}
              <th>
                <span className="heads-vh">pin</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const isSel = selected?.layer === row.layer && selected?.head === row.head;
              return (
                <tr
                  key={`${row.layer}-${row.head}`}
                  className={isSel ? "heads-table__row--selected" : undefined}
                  data-testid="heads-row"
                  data-layer={row.layer}
                  data-head={row.head}
                  data-values={JSON.stringify(row.values)}
                  aria-selected={isSel}
                  onClick={() => onSelect(row)}
                >
                  <th scope="row">
                    L{row.layer} H{row.head}
                  </th>
                  {row.values.map((v, i) => (
                    <td
                      key={HEAD_SCORE_NAMES[i]}
                      style={
                        v === null
                          ? undefined
                          : {
                              backgroundImage: `linear-gradient(90deg, var(--heads-bar) ${Math.min(100, Math.max(0, v * 100))}%, transparent 0)`,
                            }
                      }
                    >
                      {v === null ? "—" : v.toFixed(3)}
                    </td>
                  ))}
                  <td>
                    <button
                      type="button"
                      className="btn btn--ghost heads-table__pin"
                      onClick={(e) => {
                        e.stopPropagation();
                        onPin(row);
                      }}
                      data-testid="heads-row-pin"
                      aria-label={`pin layer ${row.layer} head ${row.head}`}
                    >
                      pin
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <dl className="heads-table__defs" data-testid="heads-definitions">
        {HEAD_SCORE_NAMES.map((n) => (
          <div key={n}>
            <dt>{SCORE_TITLE[n]}</dt>
            <dd>
              {HEAD_SCORE_DEFINITIONS[n]}
              {n === "subject" && result.scores.subject === null
                ? " (No subject is chosen for this prompt: pick one on the token strip.)"
                : ""}
            </dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
