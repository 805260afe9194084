/** Why a share link (or a session file) cannot be opened or made, as a message fit for a user. */
import { CodedError } from "../errors";

export type ShareErrorCode =
  | "bad_link" // not "#v<n>.<payload>", or characters outside base64url
  | "unknown_version" // a version this build does not know (newer than it)
  | "too_long" // the link, or its unpacked payload, is over the cap
  | "corrupt" // the payload does not unpack (truncated or altered: the checksum fails)
  | "bad_field" // a field is missing its type, out of range, or unknown
  | "not_shareable"; // the session holds something a link cannot carry (a model from local files)

export class ShareError extends CodedError<ShareErrorCode> {
  override readonly name = "ShareError";
}
