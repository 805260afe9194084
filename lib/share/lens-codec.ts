/**
 * The read-out views in a link (field "ro", lib/share/fields.ts): for each of the logit lens,
 * DLA and attribution patching whose result was on screen, the settings that made it. The
 * opener recomputes them (./lens-open.ts); the numbers are deterministic, so the reopened views
 * show the same ones. Prompts travel in their own fields (the prompt, the patching pair).
 */
import { MAX_LENS_TOP_K } from "../interp/logit-lens";
import { LIMITS } from "../params/table";
import { bool, type Codec, int, nullable, record, text } from "./codecs";

export type SharedReadouts = {
  lens: { target: string; topK: number } | null;
  dla: { target: string; foil: string; position: number | null } | null;
  attrib: { exact: boolean } | null;
};

const token = text(2000);

export const sharedReadouts: Codec<SharedReadouts> = record<SharedReadouts>({
  lens: nullable(record({ target: token, topK: int(1, MAX_LENS_TOP_K) })),
  dla: nullable(record({ target: token, foil: token, position: nullable(int(0, LIMITS.tokens)) })),
  attrib: nullable(record({ exact: bool })),
});
