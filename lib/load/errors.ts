/**
 * Every problem with a model file surfaces as a LoadError: a stable `code` for programs and
 * tests, and a one-line message that names the file and what is wrong with it.
 */
import { CodedError } from "../errors";

export type LoadErrorCode =
  | "file_missing"
  | "truncated"
  | "header_too_large"
  | "bad_header"
  | "unknown_dtype"
  | "missing_tensor"
  | "bad_shape"
  | "unsupported_architecture"
  | "bad_config"
  | "bad_tokenizer"
  | "bad_index"
  | "fetch_failed"
  | "cancelled"
  | "too_large"
  | "stalled"
  | "non_finite"
  | "refused_source";

export class LoadError extends CodedError<LoadErrorCode> {
  override readonly name = "LoadError";
  constructor(
    code: LoadErrorCode,
    readonly file: string,
    detail: string,
  ) {
    super(code, `${file}: ${detail}`);
  }
}
