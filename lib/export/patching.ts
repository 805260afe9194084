/**
 * The "By position" and "Path patching" grids as files. JSON has the CLI's field names: path
 * patching is `causeway path --json` (receivers and joint: the receiver set measured on this grid,
 * else [] and null), the position grid is `causeway patch --json` for its site (clean_ids,
 * corrupt_ids, strategy, scores [L][T], or [L][T][H] for head_out_pos). CSV is one row per cell
 * (RFC 4180, ./csv.ts quoting):
 *
 *   positions: layer,position,token,head,effect       (head empty unless head_out_pos)
 *   path:      sender_layer,sender_head,receiver_layer,receiver_head,receiver_set,inputs,effect
 *
 * A path row is the effect of the path into one head (receiver_set "L3H1") or, last, into the
 * receiver set jointly (receiver_set "L3H1+L4H0", receiver_layer and receiver_head empty).
 * A cell not computed (a cancelled run, layers up to the sender's) is null in JSON, empty in CSV.
 */
import type { HeadRef } from "../interp/path-patch";
import type { PathResult } from "../store/path-slice";
import type { PositionsResult } from "../store/positions-slice";
import type { RunInfo } from "../store/types";
import { cell } from "./csv";

const orNull = (v: number) => (Number.isNaN(v) ? null : v);
const csv = (header: string[], rows: (string | number)[][]) =>
  `${[header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;
const json = (x: object) => `${JSON.stringify(x, null, 1)}\n`;

/** The run's cost of stage `stage` (evaluations, ms), or the whole run's. */
function cost(run: RunInfo, stage: string) {
  const st = run.stages?.[stage];
  return { evaluations: st?.evaluations ?? run.evaluations, ms: st?.ms ?? run.ms };
}

const headLabel = (h: HeadRef) => `L${h.layer}H${h.head}`;
/** "L3H1+L4H0": a receiver set as the app and the CLI write heads. */
export const setLabel = (heads: readonly HeadRef[]): string => heads.map(headLabel).join("+");

export function pathJson(r: PathResult, run: RunInfo, extra: { backend?: string } = {}): string {
  const b = r.baseline;
  if (!b || !r.values) throw new Error("path patching has no results to export");
  const values = r.values;
  const scores = Array.from({ length: b.nLayer }, (_, l) =>
    Array.from({ length: b.nHead }, (_, h) => orNull(values[l * b.nHead + h])),
  );
  return json({
    clean_ids: b.cleanIds,
    corrupt_ids: b.corruptIds,
    clean_tokens: b.cleanTokens,
    corrupt_tokens: b.corruptTokens,
    target: b.target,
    foil: b.foil,
    sender: b.sender,
    inputs: b.inputs,
    receivers: r.joint?.receivers ?? [],
    clean_logit_diff: b.cleanLogitDiff,
    corrupt_logit_diff: b.corruptLogitDiff,
    scores,
    joint: r.joint?.value ?? null,
    n_layer: b.nLayer,
    n_head: b.nHead,
    ...cost(run, "path"),
    ...extra,
  });
}

export function pathCsv(r: PathResult): string {
  const b = r.baseline;
  if (!b || !r.values) throw new Error("path patching has no results to export");
  const rows: (string | number)[][] = [];
  const { layer: sl, head: sh } = b.sender;
  const inputs = b.inputs.join("");
  for (let l = sl + 1; l < b.nLayer; l++) {
    for (let h = 0; h < b.nHead; h++) {
      const v = orNull(r.values[l * b.nHead + h]);
      rows.push([sl, sh, l, h, headLabel({ layer: l, head: h }), inputs, v ?? ""]);
    }
  }
  if (r.joint) rows.push([sl, sh, "", "", setLabel(r.joint.receivers), inputs, r.joint.value]);
  const header = ["sender_layer", "sender_head", "receiver_layer", "receiver_head"];
  return csv([...header, "receiver_set", "inputs", "effect"], rows);
}

/** values[t · width + l] or values[t · width + l · H + h] → scores [L][T] or [L][T][H]. */
function positionScores(r: PositionsResult, L: number, H: number, T: number) {
  const v = r.values as Float32Array;
  const perHead = r.site === "head_out_pos";
  return Array.from({ length: L }, (_, l) =>
    Array.from({ length: T }, (_, t) =>
      perHead
        ? Array.from({ length: H }, (_, h) => orNull(v[t * r.width + l * H + h]))
        : orNull(v[t * r.width + l]),
    ),
  );
}

export function positionsJson(
  r: PositionsResult,
  run: RunInfo,
  extra: { backend?: string } = {},
): string {
  const b = r.baseline;
  if (!b || !r.values) throw new Error("patching by position has no results to export");
  return json({
    clean_ids: b.cleanIds,
    corrupt_ids: b.corruptIds,
    clean_tokens: b.cleanTokens,
    corrupt_tokens: b.corruptTokens,
    site: r.site,
    metric: b.metric,
    strategy: b.strategy,
    target: b.target,
    foil: b.foil,
    clean_logit_diff: b.cleanLogitDiff,
    corrupt_logit_diff: b.corruptLogitDiff,
    clean_prob: b.cleanProb,
    corrupt_prob: b.corruptProb,
    scores: positionScores(r, b.nLayer, b.nHead, b.cleanIds.length),
    n_layer: b.nLayer,
    n_head: b.nHead,
    ...cost(run, r.site),
    ...extra,
  });
}

export function positionsCsv(r: PositionsResult): string {
  const b = r.baseline;
  if (!b || !r.values) throw new Error("patching by position has no results to export");
  const rows: (string | number)[][] = [];
  const scores = positionScores(r, b.nLayer, b.nHead, b.cleanIds.length);
  scores.forEach((byT, l) => {
    byT.forEach((x, t) => {
      const token = b.cleanTokens[t];
      if (!Array.isArray(x)) {
        rows.push([l, t, token, "", x ?? ""]);
        return;
      }
      x.forEach((v, h) => {
        rows.push([l, t, token, h, v ?? ""]);
      });
    });
  });
  return csv(["layer", "position", "token", "head", "effect"], rows);
}
