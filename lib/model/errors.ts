/**
 * Problems with a request to the model (not with its files, which are LoadErrors): a stable
 * `code` for programs and tests, and a one-line message saying what is wrong.
 */
import { CodedError } from "../errors";

export type ModelErrorCode =
  | "bad_input" // token ids: empty, ragged, out of the vocabulary, longer than the context
  | "bad_weights" // a weight whose shape does not match the config
  | "unknown_hook" // a hook name that hookNames(nLayer) does not contain
  | "bad_intervention"; // an intervention whose op, indices or value do not fit its hook

export class ModelError extends CodedError<ModelErrorCode> {
  override readonly name = "ModelError";
}
