/** Text → token ids for editing: templates with a subject, and the subject's last token. */
import { continuationTokens, matchTexts, type TextTokenizer } from "../util/tokenizer";
import { EditError } from "./types";

export interface SubjectPrompt {
  text: string;
  ids: number[];
  /** Index of the subject's last token. */
  subjectLast: number;
}

/**
 * `template` with "{}" replaced by the subject, tokenized, and the index of the token holding
 * the subject's last character (ROME's "subject_last" lookup). A template without "{}" is an
 * error: the edit needs to know where the subject is. `ids` start with the tokenizer's BOS when
 * it has one, and the index counts it (special tokens hold no text of the prompt).
 */
export function subjectPrompt(
  tok: TextTokenizer,
  template: string,
  subject: string,
): SubjectPrompt {
  const at = template.indexOf("{}");
  if (at < 0) {
    throw new EditError(
      "bad_edit",
      `prompt ${JSON.stringify(template)} has no "{}" for the subject`,
    );
  }
  if (subject.length === 0) throw new EditError("bad_edit", "the subject is empty");
  const text = template.slice(0, at) + subject + template.slice(at + 2);
  const ids = tok.encode(text);
  const end = at + subject.length; // one past the subject's last character
  const texts = matchTexts(tok, ids);
  let subjectLast = -1;
  if (texts.join("") === text) {
    let pos = 0;
    for (let i = 0; i < texts.length; i++) {
      pos += texts[i].length;
      if (pos >= end) {
        subjectLast = i;
        break;
      }
    }
  } else {
    // token texts do not concatenate to the text (a multi-byte character split across tokens,
    // SentencePiece's "▁" put before the first word): ROME's own rule, the length of the
    // tokenized prefix up to the subject's end (BOS included, as in `ids`), minus one
    subjectLast = tok.encode(text.slice(0, end)).length - 1;
  }
  if (subjectLast < 0 || subjectLast >= ids.length) {
    throw new EditError(
      "bad_edit",
      `cannot find the subject ${JSON.stringify(subject)} in ${JSON.stringify(text)}`,
    );
  }
  return { text, ids, subjectLast };
}

/**
 * Token ids of a target continuation: a leading space is added when it has none and the prompt
 * does not end in whitespace (CounterFact's target strings are stored without it).
 */
export function continuationIds(tok: TextTokenizer, promptText: string, target: string): number[] {
  if (target === "") throw new EditError("bad_edit", "the target is empty");
  const text = /^\s/.test(target) || /\s$/.test(promptText) ? target : ` ${target}`;
  const ids = continuationTokens(tok, text);
  if (ids.length === 0)
    throw new EditError("bad_edit", `target ${JSON.stringify(target)} has no tokens`);
  return ids;
}
