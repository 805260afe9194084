/**
 * The "By position" and "Path patching" views in a link (field "pv", lib/share/fields.ts): the
 * position grid's site, and the path view's sender head and receiver inputs (the receivers are
 * every head after the sender's layer). Each part is present only when its results were on
 * screen for the link's patching prompts; the opener recomputes them (./patching-open.ts) —
 * the numbers are deterministic, so the reopened views show the same ones.
 */
import { type HeadRef, RECEIVER_INPUTS, type ReceiverInput } from "../interp/path-patch";
import { POSITION_SITES, type PositionSite } from "../store/positions-slice";
import { type Codec, int, nullable, oneOf, record, subsetOf } from "./codecs";

export type SharedPatching = {
  positions: { site: PositionSite } | null;
  path: { sender: HeadRef; inputs: ReceiverInput[] } | null;
};

/** Bounds before the model is known; the opener checks layer and head against the model. */
const index = int(0, 1000);

export const sharedPatching: Codec<SharedPatching> = record<SharedPatching>({
  positions: nullable(record({ site: oneOf(POSITION_SITES) })),
  path: nullable(
    record({ sender: record({ layer: index, head: index }), inputs: subsetOf(RECEIVER_INPUTS) }),
  ),
});
