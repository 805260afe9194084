export type { Comparison, FlaggedCell } from "./compare";
export { COMPARE_TOLERANCE, compareGrids } from "./compare";
export { ShareError, type ShareErrorCode } from "./errors";
export { FIELDS } from "./fields";
export {
  decodeSession,
  type EncodedLink,
  encodeSession,
  fromPayload,
  isSessionFragment,
  MAX_LINK_CHARS,
  MAX_PAYLOAD_BYTES,
  toPayload,
} from "./link";
export { LINK_VERSION } from "./migrate";
export type { CarriedGrid, CarriedTrace, SharedSession } from "./session";
export { DEFAULT_SESSION } from "./session";
export { applySession, carriedTraceOf, sessionOf } from "./store";
