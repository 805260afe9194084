/**
 * The model of a link or session file passes through here before anything of the session is
 * applied (lib/load/source-trust.ts says what may load without asking): a bundled model or the
 * page's own files load as they are; a model from another origin or the hub loads only when
 * `confirmModel` resolves true; a refused source (credentials in the address, an unknown bundled
 * name) or a declined one keeps the current model, and the rest of the session is applied to it.
 */
import { LoadError } from "../load/errors";
import { type ForeignSource, foreignSource } from "../load/source-trust";
import type { ModelSource } from "../protocol";
import { DEFAULT_SESSION, type SharedSession } from "./session";

export interface ModelGateOptions {
  /** The page's origin: relative addresses resolve against it, and it loads without asking. */
  pageOrigin?: string;
  /** Asked before a foreign model loads; absent, a foreign model is never loaded. */
  confirmModel?: (ask: ForeignSource) => Promise<boolean>;
  /** Told why the link's model was not loaded (refused or declined). */
  onModelKept?: (reason: string) => void;
}

/** The session to apply: as it is, or (later, once asked) with the current model kept. */
export function gateSessionModel(
  session: SharedSession,
  current: ModelSource | null,
  opts: ModelGateOptions,
): SharedSession | Promise<SharedSession> {
  const keep = (reason: string): SharedSession => {
    opts.onModelKept?.(reason);
    return { ...session, model: current ?? DEFAULT_SESSION.model };
  };
  let foreign: ForeignSource | null;
  try {
    foreign = foreignSource(session.model, opts.pageOrigin ?? pageOrigin());
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
    return keep(`The model was not loaded: ${e.message.replace(/^model: /, "")}.`);
  }
  if (!foreign) return session;
  const declined = `Kept the current model: ${foreign.repo} from ${foreign.origin} was not loaded.`;
  if (!opts.confirmModel) return keep(declined);
  return opts.confirmModel(foreign).then(
    (yes) => (yes ? session : keep(declined)),
    () => keep(declined),
  );
}

function pageOrigin(): string {
  return (globalThis as { location?: { origin?: string } }).location?.origin ?? "http://localhost";
}
