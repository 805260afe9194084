/**
 * The "By position" and "Path patching" views in a link (field "pv", lib/share/fields.ts): the
 * position grid's site, and the path view's sender head, receiver inputs and the receiver set
 * whose joint effect was on screen (absent in links made before receiver sets: none). Each part is present only when its results were on
 * screen for the link's patching prompts; the opener recomputes them (./patching-open.ts) —
 * the numbers are deterministic, so the reopened views show the same ones.
 */
import { type HeadRef, RECEIVER_INPUTS, type ReceiverInput } from "../interp/path-patch";
import { POSITION_SITES, type PositionSite } from "../store/positions-slice";
import { bad, type Codec, int, nullable, oneOf, record, subsetOf } from "./codecs";

export type SharedPatching = {
  positions: { site: PositionSite } | null;
  path: { sender: HeadRef; inputs: ReceiverInput[]; receivers: HeadRef[] } | null;
};

/** Bounds before the model is known; the opener checks layer and head against the model. */
const index = int(0, 1000);
const head = record({ layer: index, head: index });
/** At most this many receivers in a link (more than any bundled model's heads; bounds the work). */
export const MAX_LINK_RECEIVERS = 256;

/** Distinct heads; absent (an older link) reads as none. */
const receiverSet: Codec<HeadRef[]> = {
  write: (v) => v.map((h) => head.write(h)),
  read(x, name) {
    if (x === undefined) return [];
    if (!Array.isArray(x) || x.length > MAX_LINK_RECEIVERS) {
      bad(name, `must be a list of at most ${MAX_LINK_RECEIVERS} heads`);
    }
    const out = x.map((h, i) => head.read(h, `${name}[${i}]`));
    const keys = new Set(out.map((h) => `${h.layer}.${h.head}`));
    if (keys.size !== out.length) bad(name, "lists a head twice");
    return out;
  },
};

export const sharedPatching: Codec<SharedPatching> = record<SharedPatching>({
  positions: nullable(record({ site: oneOf(POSITION_SITES) })),
  path: nullable(
    record({ sender: head, inputs: subsetOf(RECEIVER_INPUTS), receivers: receiverSet }),
  ),
});
