/**
 * The all-heads view in a link (field "hv", lib/share/fields.ts): the pinned heads and the score
 * table's sort, `{p: [[layer, head], …], s: "induction", d: true}`. Present only when the view
 * had results on screen; the opener recomputes them (./heads-open.ts) — the numbers are
 * deterministic, so the reopened view shows the same ones.
 */
import { HEAD_SORT_KEYS, type HeadsView, MAX_PINNED } from "../store/heads-slice";
import { bad, bool, type Codec, int, oneOf } from "./codecs";

const index = int(0, 1000);

export const headsView: Codec<HeadsView> = {
  write: (v) => ({
    p: v.pinned.map((h) => [h.layer, h.head]),
    s: v.sort,
    d: v.desc,
  }),
  read(x, name) {
    if (typeof x !== "object" || x === null || Array.isArray(x)) bad(name, "must be an object");
    const o = x as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => !["p", "s", "d"].includes(k));
    if (extra !== undefined) bad(name, `has an unknown part "${extra.slice(0, 40)}"`);
    if (!Array.isArray(o.p) || o.p.length > MAX_PINNED) {
      bad(name, `pinned heads must be a list of at most ${MAX_PINNED}`);
    }
    const pinned = o.p.map((h, i) => {
      if (!Array.isArray(h) || h.length !== 2) bad(name, `pinned head ${i} must be [layer, head]`);
      return {
        layer: index.read(h[0], `${name}.pinned[${i}].layer`),
        head: index.read(h[1], `${name}.pinned[${i}].head`),
      };
    });
    return {
      pinned,
      sort: oneOf(HEAD_SORT_KEYS).read(o.s, `${name}.sort`),
      desc: bool.read(o.d, `${name}.desc`),
    };
  },
};
