/**
 * Field codecs of the link: each writes a value as compact JSON and reads it back, checking type
 * and range so that nothing out of a link reaches the store unchecked (a failed check is a
 * ShareError "bad_field" naming the field).
 */
import { parseEdit } from "../edit/parse";
import { isObj, type Obj } from "../edit/parse-checker";
import type { Edit } from "../edit/types";
import { TRACE_KINDS, type TraceKind } from "../interp/spec";
import { normalizeEndpoint, parseHubRef } from "../load/hub-source";
import { BUNDLED_MODELS, isBundledModel } from "../load/source-trust";
import type { NumParam } from "../params/schema";
import { LIMITS, TRACE_PARAMS } from "../params/table";
import type { ModelSource } from "../protocol";
import { VIEW_ID } from "../store/view-slice";
import { fromBase64url, toBase64url } from "./base64url";
import { ShareError } from "./errors";
import { fromF16Bits, toF16Bits } from "./f16";
import { pack, unpack } from "./packed";
import type { CarriedGrid, CarriedTrace } from "./session";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Codec<T> {
  write(v: T): Json;
  /**
   * The value from JSON; throws ShareError("bad_field") naming `name`, which says whose field it
   * is ("link's prompt", "session file's edits[0]": ./link.ts fromPayload).
   */
  read(x: unknown, name: string): T;
}

export function bad(name: string, msg: string): never {
  throw new ShareError("bad_field", `The ${name} ${msg}.`);
}

export const MAX_TEXT: number = LIMITS.promptChars;

export const text = (max = MAX_TEXT): Codec<string> => ({
  write: (v) => v,
  read(x, name) {
    if (typeof x !== "string") bad(name, "must be text");
    if (x.length > max) bad(name, `is longer than ${max} characters`);
    return x;
  },
});

export const int = (min: number, max: number): Codec<number> => ({
  write: (v) => v,
  read(x, name) {
    if (typeof x !== "number" || !Number.isInteger(x) || x < min || x > max) {
      bad(name, `must be a whole number from ${min} to ${max}`);
    }
    return x;
  },
});

export const num = (min: number, max: number): Codec<number> => ({
  write: (v) => v,
  read(x, name) {
    if (typeof x !== "number" || !Number.isFinite(x) || x < min || x > max) {
      bad(name, `must be a number from ${min} to ${max}`);
    }
    return x;
  },
});

/** A setting's codec from its row of the settings table (lib/params/table.ts). */
export const param = (p: NumParam): Codec<number> => (p.integer ? int : num)(p.min, p.max);

export const bool: Codec<boolean> = {
  write: (v) => v,
  read(x, name) {
    if (typeof x !== "boolean") bad(name, "must be true or false");
    return x;
  },
};

export const oneOf = <T extends string>(values: readonly T[]): Codec<T> => ({
  write: (v) => v,
  read(x, name) {
    if (!values.includes(x as T)) bad(name, `must be one of ${values.join(", ")}`);
    return x as T;
  },
});

/** A results tab's id (lib/store/view-slice.ts VIEW_ID); an id the app does not know opens its first tab. */
export const viewId: Codec<string> = {
  write: (v) => v,
  read(x, name) {
    if (typeof x !== "string" || !VIEW_ID.test(x))
      bad(name, "must be a view id (lower-case letters, digits and dashes, at most 40)");
    return x;
  },
};

export const nullable = <T>(c: Codec<T>): Codec<T | null> => ({
  write: (v) => (v === null ? null : c.write(v)),
  read: (x, name) => (x === null ? null : c.read(x, name)),
});

/** [b, e) with 0 ≤ b < e ≤ max. */
export const range = (max: number): Codec<[number, number]> => ({
  write: (v) => [v[0], v[1]],
  read(x, name) {
    if (
      !Array.isArray(x) ||
      x.length !== 2 ||
      !x.every((v) => Number.isInteger(v)) ||
      x[0] < 0 ||
      x[0] >= x[1] ||
      x[1] > max
    ) {
      bad(name, `must be a token range [begin, end) within 0…${max}`);
    }
    return [x[0], x[1]];
  },
});

/** A non-empty list of distinct names out of `values`. */
export const subsetOf = <T extends string>(values: readonly T[]): Codec<T[]> => ({
  write: (v) => [...v],
  read(x, name) {
    if (
      !Array.isArray(x) ||
      x.length === 0 ||
      !x.every((k) => values.includes(k)) ||
      new Set(x).size !== x.length
    ) {
      bad(name, `must list one or more of ${values.join(", ")}, each once`);
    }
    return x as T[];
  },
});

export const kindList: Codec<TraceKind[]> = subsetOf(TRACE_KINDS);

/** An object of named sub-fields, all required. */
export function record<T extends Record<string, unknown>>(
  parts: {
    [K in keyof T]: Codec<T[K]>;
  },
): Codec<T> {
  return {
    write(v) {
      const out: { [k: string]: Json } = {};
      for (const k of Object.keys(parts)) out[k] = parts[k].write(v[k] as T[typeof k]);
      return out;
    },
    read(x, name) {
      if (!isObj(x)) bad(name, "must be an object");
      const extra = Object.keys(x).filter((k) => !(k in parts));
      if (extra.length > 0) bad(name, `has an unknown part "${extra[0]}"`);
      const out: Partial<T> = {};
      for (const k of Object.keys(parts) as (keyof T)[]) {
        out[k] = parts[k].read(x[k as string], `${name}.${String(k)}`);
      }
      return out as T;
    },
  };
}

// ── model source ─────────────────────────────────────────────────────────────────────────────

/**
 * bundled (a name), url (http(s) base URL) and hub (repo, revision, endpoint) sources travel in a link; a
 * model opened from local files does not (the files never leave the user's machine).
 */
export const modelSource: Codec<ModelSource> = {
  write(v) {
    const s = v as unknown as Obj;
    if (s.kind === "files") {
      throw new ShareError(
        "not_shareable",
        "This model was opened from files on this computer; a link cannot carry it. Load it from a URL or the Hugging Face hub to share the session.",
      );
    }
    // only what locates the model: a display name is never carried (it is derived from this)
    if (s.kind === "url") return { kind: "url", baseUrl: s.baseUrl as string };
    return JSON.parse(JSON.stringify(s)) as Json;
  },
  read(x, name) {
    if (!isObj(x)) bad(name, "must be an object");
    const str = (k: string, optional = false) => {
      const v = x[k];
      if (v === undefined && optional) return;
      if (typeof v !== "string" || v.length === 0 || v.length > 500) bad(name, `needs a ${k}`);
    };
    const only = (keys: string[]) => {
      const extra = Object.keys(x).find((k) => !keys.includes(k));
      if (extra) bad(name, `has an unknown part "${extra}"`);
    };
    if (x.kind === "bundled") {
      only(["kind", "name"]);
      str("name");
      // an allow-list: "..", "tiny-fact" (a typo) and the like are not models of this build
      if (!isBundledModel(x.name as string)) {
        bad(name, `names no bundled model (bundled: ${BUNDLED_MODELS.join(", ")})`);
      }
    } else if (x.kind === "url") {
      // "name": written by older links, ignored: a model's name is derived from its source
      only(["kind", "baseUrl", "name"]);
      str("baseUrl");
      str("name", true);
      if (!/^https?:\/\//i.test(x.baseUrl as string)) bad(name, "must be an http(s) address");
      return { kind: "url", baseUrl: x.baseUrl as string };
    } else if (x.kind === "hub") {
      // endpoint: a hub other than huggingface.co (a mirror, or the tests' stand-in).
      only(["kind", "repo", "revision", "endpoint"]);
      str("repo");
      str("revision", true);
      str("endpoint", true);
      // The loader's own checks: no "..", "--" or odd characters in the id; http(s) endpoints.
      try {
        parseHubRef(`${x.repo}${x.revision === undefined ? "" : `@${x.revision}`}`);
      } catch (e) {
        bad(name, `has a bad hub repo id or revision (${(e as Error).message})`);
      }
      if (x.endpoint !== undefined) {
        try {
          normalizeEndpoint(x.endpoint as string);
        } catch {
          bad(name, "has a hub endpoint that is not an http(s) address");
        }
      }
    } else {
      bad(name, "must be a bundled, url or hub model");
    }
    return x as unknown as ModelSource;
  },
};

// ── edits ────────────────────────────────────────────────────────────────────────────────────

/**
 * What a link carries of each kind's learned parameters: "quantised" (numbers arrays rounded to
 * f16, integers and scalars exact: lib/share/packed.ts) or "recipe" (the learned part is left
 * out and the opening session learns it again). Every kind that exists now is quantised: its
 * learned arrays are small (ROME u, v: d_mlp + d_model numbers) and f16 keeps them within
 * 2⁻¹¹ relative (test/share-edits.test.ts measures the effect on the edited model's output;
 * test/share-edit-kinds.test.ts learns one edit of every kind and finds the linked edit's
 * probabilities within 1.2e-4 of the exact edit's, LoReFT's R still orthonormal to 1.4e-4).
 * A kind missing here is quantised too; "recipe" is the fallback when a link would be too long.
 */
export const LEARNED_IN_LINK: Record<string, "quantised" | "recipe"> = {
  rome: "quantised",
  head_ablate: "quantised",
  head_scale: "quantised",
  head_steer: "quantised",
  resid_steer: "quantised",
  loreft: "quantised",
  lora: "quantised",
  // MEMIT / AlphaEdit: per layer d_mlp·n + n·d_model numbers (n rewrites); a batch too large
  // for the link falls back to the recipe (link.ts drops every learned part), relearned on open
  memit: "quantised",
  alphaedit: "quantised",
  // SWEA: P × d_model offsets per subject spelling (token ids are integers: exact)
  swea: "quantised",
  pmet: "quantised",
};

/** An edit as a link carries it: no UI id (the stack assigns one), learned part per policy. */
export function editForLink(e: Edit, recipeOnly = false): Json {
  const { id: _id, ...rest } = e as Edit & { learned?: unknown };
  const policy = LEARNED_IN_LINK[e.kind] ?? "quantised";
  if (recipeOnly || policy === "recipe") delete (rest as { learned?: unknown }).learned;
  return pack(rest);
}

export const editList: Codec<Edit[]> = {
  write: (v) => v.map((e) => editForLink(e)),
  read(x, name) {
    if (!Array.isArray(x)) bad(name, "must be a list of edits");
    if (x.length > LIMITS.edits) bad(name, `hold more than ${LIMITS.edits} edits`);
    return x.map((e, i) => {
      let edit: Edit;
      try {
        edit = parseEdit(unpack(e, `${name}[${i}]`), i);
      } catch (err) {
        if (err instanceof ShareError) throw err;
        bad(name, `are not valid: ${err instanceof Error ? err.message : String(err)}`);
      }
      return edit;
    });
  },
};

// ── carried trace ────────────────────────────────────────────────────────────────────────────

/** Grid values as little-endian f16 (NaN kept: a cell not computed). */
function gridValues(values: number[]): string {
  const bytes = new Uint8Array(values.length * 2);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) dv.setUint16(i * 2, toF16Bits(values[i]), true);
  return toBase64url(bytes);
}

const MAX_CELLS = 64 * 256;

const grid: Codec<CarriedGrid> = {
  write: (g) => ({ k: g.kind, r: g.rows, c: g.cols, v: gridValues(g.values) }),
  read(x, name) {
    if (!isObj(x)) bad(name, "must be an object");
    const kind = oneOf(TRACE_KINDS).read(x.k, `${name}.kind`);
    const rows = int(1, 4096).read(x.r, `${name}.rows`);
    const cols = int(1, 4096).read(x.c, `${name}.cols`);
    if (rows * cols > MAX_CELLS) bad(name, `has more than ${MAX_CELLS} cells`);
    const bytes = typeof x.v === "string" ? fromBase64url(x.v) : null;
    if (!bytes || bytes.length !== rows * cols * 2) bad(name, "values do not fill the grid");
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const values = Array.from({ length: rows * cols }, (_, i) =>
      fromF16Bits(dv.getUint16(i * 2, true)),
    );
    if (values.some((v) => v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY)) {
      bad(name, "holds an infinite value");
    }
    return { kind, rows, cols, values };
  },
};

export const carriedTrace: Codec<CarriedTrace> = {
  write: (t) => ({
    t: [...t.tokens],
    s: [t.subject[0], t.subject[1]],
    a: t.answer,
    lo: t.low,
    hi: t.high,
    w: t.window,
    g: t.grids.map((g) => grid.write(g)),
  }),
  read(x, name) {
    if (!isObj(x)) bad(name, "must be an object");
    const extra = Object.keys(x).find((k) => !["t", "s", "a", "lo", "hi", "w", "g"].includes(k));
    if (extra) bad(name, `has an unknown part "${extra}"`);
    if (!Array.isArray(x.t) || x.t.length === 0 || x.t.length > 4096) {
      bad(name, "tokens must be a non-empty list");
    }
    const tokens = x.t.map((t, i) => text(1000).read(t, `${name}.tokens[${i}]`));
    const subject = range(tokens.length).read(x.s, `${name}.subject`);
    const answer = text(1000).read(x.a, `${name}.answer`);
    const low = num(0, 1).read(x.lo, `${name}.low`);
    const high = num(0, 1).read(x.hi, `${name}.high`);
    const window = param(TRACE_PARAMS.window).read(x.w, `${name}.window`);
    if (!Array.isArray(x.g) || x.g.length > TRACE_KINDS.length) bad(name, "grids must be a list");
    const grids = x.g.map((g, i) => grid.read(g, `${name}.grids[${i}]`));
    for (const g of grids) {
      if (g.rows !== tokens.length) bad(name, `${g.kind} grid must have one row per token`);
    }
    return { tokens, subject, answer, low, high, window, grids };
  },
};
