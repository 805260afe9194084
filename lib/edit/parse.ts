/**
 * Reading and writing edit files (docs/edits.md): `{version: 2, model?, edits: [...]}` or a bare
 * list of edits. A file of version 1 or without a version (a bare list too: files older than
 * version 2) is read as v1: its ROME edits keep the defaults of then (lib/edit/rome-legacy.ts).
 * Parsing checks the structure and types of every field, with the edit's index in each message,
 * and every count and scale against its documented range (lib/edit/bounds.ts); sizes against a
 * model are checked by lib/edit/plan.ts checkEdit.
 * serializeEdits is JSON.stringify of the same object, so write → read gives the edits back.
 */
import { EDIT_BOUNDS } from "./bounds";
import { Checker, isObj } from "./parse-checker";
import { KIND_CHECKS } from "./parse-kinds";
import { romeEditFromV1 } from "./rome-legacy";
import { EDIT_FORMAT_VERSION, EDIT_KINDS, type Edit, EditError, type EditFile } from "./types";

/** Checks one edit's structure and bounds; returns it typed (the object itself, not a copy). */
export function parseEdit(x: unknown, index = 0): Edit {
  const c = new Checker(`edit ${index}`);
  const e = c.obj(x, "the edit");
  c.oneOf(e.kind, "kind", EDIT_KINDS);
  c.str(e.id, "id", { optional: true });
  c.str(e.label, "label", { optional: true });
  if (e.enabled !== undefined && typeof e.enabled !== "boolean")
    c.fail("enabled must be true or false");
  if (e.eval !== undefined) {
    const ev = c.obj(e.eval, "eval");
    c.prompts(ev.prompts, "eval.prompts");
    c.str(ev.target, "eval.target");
    c.str(ev.foil, "eval.foil");
  }
  KIND_CHECKS[e.kind as Edit["kind"]](c, {
    site: c.obj(e.site ?? {}, "site"),
    params: c.obj(e.params ?? {}, "params"),
    learned: e.learned === undefined ? undefined : c.obj(e.learned, "learned"),
  });
  return e as unknown as Edit;
}

/** A stack's length against its bound (before any edit in it is read or learned). */
export function checkStackSize(n: number): void {
  const max = EDIT_BOUNDS.edits.max;
  if (n > max) {
    throw new EditError("bad_edit", `${n} edits in one stack: at most ${max} are accepted`);
  }
}

/** Parses an edit file's JSON (an object with `edits`, or a bare list). */
export function parseEditFile(json: unknown): EditFile {
  const raw = Array.isArray(json) ? { edits: json } : json;
  if (!isObj(raw) || !Array.isArray(raw.edits)) {
    throw new EditError(
      "bad_edit",
      `an edit file is {version: ${EDIT_FORMAT_VERSION}, edits: [...]} or a list of edits`,
    );
  }
  // no version: written before versions mattered, so v1 (a new file says version 2)
  const version = raw.version ?? 1;
  if (version !== 1 && version !== EDIT_FORMAT_VERSION) {
    throw new EditError(
      "bad_edit",
      `edit file version ${String(version)} is not supported (this reads 1 and ${EDIT_FORMAT_VERSION})`,
    );
  }
  if (raw.model !== undefined && typeof raw.model !== "string") {
    throw new EditError("bad_edit", "model must be a string");
  }
  checkStackSize(raw.edits.length);
  return {
    version: EDIT_FORMAT_VERSION,
    ...(raw.model !== undefined ? { model: raw.model as string } : {}),
    edits: raw.edits.map((e, i) => parseEdit(version === 1 ? romeEditFromV1(e) : e, i)),
  };
}

export function serializeEdits(edits: readonly Edit[], model?: string): string {
  const file: EditFile = {
    version: EDIT_FORMAT_VERSION,
    ...(model ? { model } : {}),
    edits: [...edits],
  };
  return JSON.stringify(file, null, 2);
}
