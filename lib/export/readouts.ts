/**
 * The read-out views' results as files that say what they are of: which model (name, source,
 * parameters) and which prompt(s). JSON is the result with the CLI's field names
 * (docs/attribution.md) after `model`, `backend` and `prompt` (or `clean` / `corrupt`). CSV is
 * RFC 4180, one row per number (./csv.ts quoting), with the model and prompt(s) as the last
 * columns of every row:
 *
 *   lens:   layer,position,token,target,target_prob,rank,top_token,top_prob,model,prompt
 *   dla:    component,layer,head,contribution,target,foil,model,prompt      (+ total, logit_diff)
 *   attrib: site,layer,position,head,estimate,exact,target,foil,model,clean,corrupt
 *           (exact empty when not run)
 */
import type { AttributionComparison, AttributionResult } from "../interp/attribution";
import type { DlaResult } from "../interp/dla";
import type { LensResult } from "../interp/logit-lens";
import { cell } from "./csv";
import type { ModelAbout } from "./model-about";

const csv = (header: string[], rows: (string | number)[][]) =>
  `${[header, ...rows].map((r) => r.map(cell).join(",")).join("\r\n")}\r\n`;

/** What a read-out is of: the model, the backend, and its prompt (lens, dla) or prompts (attrib). */
export interface ReadoutAbout {
  model: ModelAbout;
  backend?: string;
  prompt?: string;
  clean?: string;
  corrupt?: string;
}

/** The result as JSON, after what it is of. */
export function readoutJson(result: object, about: ReadoutAbout): string {
  return JSON.stringify({ ...about, ...result }, null, 2);
}

const aboutCells = (a: ReadoutAbout) =>
  a.clean !== undefined
    ? [a.model.source, a.clean, a.corrupt ?? ""]
    : [a.model.source, a.prompt ?? ""];
const aboutHeader = (a: ReadoutAbout) =>
  a.clean !== undefined ? ["model", "clean", "corrupt"] : ["model", "prompt"];

export function lensCsv(r: LensResult, about: ReadoutAbout): string {
  const of = aboutCells(about);
  const rows: (string | number)[][] = [];
  r.layers.forEach((layer, i) => {
    r.input_tokens.forEach((token, t) => {
      r.top[i][t].forEach((top, k) => {
        rows.push([
          layer,
          t,
          token,
          r.target.token,
          r.target_prob[i][t],
          k + 1,
          top.token,
          top.prob,
          ...of,
        ]);
      });
    });
  });
  const header = ["layer", "position", "token", "target", "target_prob", "rank", "top_token"];
  return csv([...header, "top_prob", ...aboutHeader(about)], rows);
}

export function dlaCsv(r: DlaResult, about: ReadoutAbout): string {
  const rows: (string | number)[][] = [
    ["embed", "", "", r.embed],
    ["pos_embed", "", "", r.pos_embed],
  ];
  for (let l = 0; l < r.n_layer; l++) {
    r.heads[l].forEach((v, h) => {
      rows.push(["head", l, h, v]);
    });
    rows.push(["attn_bias", l, "", r.attn_bias[l]]);
    rows.push(["mlp", l, "", r.mlp[l]]);
  }
  rows.push(["ln_final_bias", "", "", r.ln_final_bias]);
  rows.push(["total", "", "", r.total], ["logit_diff", "", "", r.logit_diff]);
  const of = [r.target.token, r.foil.token, ...aboutCells(about)];
  const header = ["component", "layer", "head", "contribution", "target", "foil"];
  return csv(
    [...header, ...aboutHeader(about)],
    rows.map((x) => [...x, ...of]),
  );
}

/** Estimate and (where run) exact patching, cell by cell. */
export function attribCsv(
  r: AttributionResult,
  exact: readonly AttributionComparison[],
  about: ReadoutAbout,
): string {
  type Cell = { l: number; t: number | ""; h: number | ""; v: number };
  const ex = (site: string) => exact.find((c) => c.site === site)?.exact;
  const at = (e: unknown, c: Cell) => {
    let x = (e as unknown[] | undefined)?.[c.l];
    if (c.t !== "") x = (x as unknown[] | undefined)?.[c.t];
    if (c.h !== "") x = (x as unknown[] | undefined)?.[c.h];
    return typeof x === "number" ? x : "";
  };
  const sites: [string, Cell[]][] = [
    ...(["resid_pre", "attn_out", "mlp_out"] as const).map((site): [string, Cell[]] => [
      site,
      r.scores[site].flatMap((row, l) => row.map((v, t) => ({ l, t, h: "" as const, v }))),
    ]),
    [
      "head_out",
      r.scores.head_out.flatMap((row, l) => row.map((v, h) => ({ l, t: "" as const, h, v }))),
    ],
    [
      "head_out_pos",
      r.scores.head_out_pos.flatMap((row, l) =>
        row.flatMap((hs, t) => hs.map((v, h) => ({ l, t, h, v }))),
      ),
    ],
  ];
  const of = [r.target.token, r.foil.token, ...aboutCells(about)];
  const rows = sites.flatMap(([site, cells]) =>
    cells.map((c) => [site, c.l, c.t, c.h, c.v, at(ex(site), c), ...of]),
  );
  const header = ["site", "layer", "position", "head", "estimate", "exact", "target", "foil"];
  return csv([...header, ...aboutHeader(about)], rows);
}
