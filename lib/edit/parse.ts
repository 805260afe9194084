/**
 * Reading and writing edit files (docs/edits.md): `{version: 1, model?, edits: [...]}` or a bare
 * list of edits. Parsing checks the structure and types of every field, with the edit's index
 * in each message; sizes against a model are checked by lib/edit/plan.ts checkEdit.
 * serializeEdits is JSON.stringify of the same object, so write → read gives the edits back.
 */
import {
  COV_SOURCES,
  EDIT_FORMAT_VERSION,
  EDIT_KINDS,
  type Edit,
  EditError,
  type EditFile,
  LORA_MODULES,
} from "./types";

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

class Checker {
  constructor(private readonly where: string) {}
  fail(msg: string): never {
    throw new EditError("bad_edit", `${this.where}: ${msg}`);
  }
  obj(x: unknown, name: string): Obj {
    if (!isObj(x)) this.fail(`${name} must be an object`);
    return x as Obj;
  }
  int(x: unknown, name: string, optional = false): void {
    if (x === undefined && optional) return;
    if (!Number.isInteger(x) || (x as number) < 0)
      this.fail(`${name} must be a non-negative integer`);
  }
  num(x: unknown, name: string, optional = false): void {
    if (x === undefined && optional) return;
    if (typeof x !== "number" || !Number.isFinite(x)) this.fail(`${name} must be a finite number`);
  }
  str(x: unknown, name: string, optional = false): void {
    if (x === undefined && optional) return;
    if (typeof x !== "string") this.fail(`${name} must be a string`);
  }
  nums(x: unknown, name: string, optional = false): void {
    if (x === undefined && optional) return;
    if (!Array.isArray(x) || !x.every((v) => typeof v === "number" && Number.isFinite(v))) {
      this.fail(`${name} must be a list of finite numbers`);
    }
  }
  oneOf(x: unknown, name: string, options: readonly string[], optional = false): void {
    if (x === undefined && optional) return;
    if (!options.includes(x as string)) this.fail(`${name} must be one of ${options.join(", ")}`);
  }
  position(x: unknown, name: string): void {
    if (x === undefined || x === "last" || x === "all") return;
    if (Array.isArray(x) && x.length > 0 && x.every((p) => Number.isInteger(p) && p >= 0)) return;
    this.fail(`${name} must be "last", "all" or a non-empty list of positions`);
  }
  prompts(x: unknown, name: string, optional = false): void {
    if (x === undefined && optional) return;
    if (Array.isArray(x)) {
      if (x.length === 0 || !x.every((s) => typeof s === "string")) {
        this.fail(`${name} must be a non-empty list of strings or {dataset, …}`);
      }
      return;
    }
    const o = this.obj(x, name);
    this.oneOf(o.dataset, `${name}.dataset`, [
      "absc",
      "general_text",
      "known_facts",
      "consistency",
    ]);
    this.str(o.label, `${name}.label`, true);
    this.oneOf(o.split, `${name}.split`, ["train", "test"], true);
    this.str(o.relation, `${name}.relation`, true);
    this.int(o.limit, `${name}.limit`, true);
  }
  direction(x: unknown, name: string): void {
    const o = this.obj(x, name);
    this.nums(o.direction, `${name}.direction`);
    this.num(o.norm, `${name}.norm`);
    this.num(o.sigma, `${name}.sigma`);
  }
}

/** Checks one edit's structure; returns it typed (the object itself, not a copy). */
export function parseEdit(x: unknown, index = 0): Edit {
  const c = new Checker(`edit ${index}`);
  const e = c.obj(x, "the edit");
  c.oneOf(e.kind, "kind", EDIT_KINDS);
  c.str(e.id, "id", true);
  c.str(e.label, "label", true);
  if (e.enabled !== undefined && typeof e.enabled !== "boolean")
    c.fail("enabled must be true or false");
  if (e.eval !== undefined) {
    const ev = c.obj(e.eval, "eval");
    c.prompts(ev.prompts, "eval.prompts");
    c.str(ev.target, "eval.target");
    c.str(ev.foil, "eval.foil");
  }
  const site = c.obj(e.site ?? {}, "site");
  const p = c.obj(e.params ?? {}, "params");
  const learned = e.learned === undefined ? undefined : c.obj(e.learned, "learned");
  switch (e.kind) {
    case "rome": {
      c.int(site.layer, "site.layer", true);
      for (const k of ["prompt", "subject", "target_new"]) c.str(p[k], `params.${k}`);
      if (!(p.prompt as string).includes("{}"))
        c.fail('params.prompt needs "{}" where the subject goes');
      c.str(p.target_true, "params.target_true", true);
      for (const k of ["steps", "case_id", "cov_texts"]) c.int(p[k], `params.${k}`, true);
      for (const k of ["lr", "kl_weight", "weight_decay", "clamp", "early_stop", "shrinkage"]) {
        c.num(p[k], `params.${k}`, true);
      }
      c.oneOf(p.cov, "params.cov", COV_SOURCES, true);
      c.oneOf(p.update_key, "params.update_key", ["bare", "mean"], true);
      if (learned) {
        c.nums(learned.u, "learned.u");
        c.nums(learned.v, "learned.v");
      }
      break;
    }
    case "head_ablate":
    case "head_scale":
      c.int(site.layer, "site.layer");
      c.int(site.head, "site.head");
      c.position(site.position, "site.position");
      if (e.kind === "head_scale") c.num(p.scale, "params.scale");
      else {
        c.oneOf(p.mode, "params.mode", ["zero", "mean"]);
        c.prompts(p.prompts, "params.prompts", p.mode !== "mean");
        if (learned) c.nums(learned.mean, "learned.mean");
      }
      break;
    case "head_steer": {
      if (site.heads !== undefined) {
        if (!Array.isArray(site.heads) || site.heads.length === 0)
          c.fail("site.heads must be a non-empty list");
        (site.heads as unknown[]).forEach((h, i) => {
          const o = c.obj(h, `site.heads[${i}]`);
          c.int(o.layer, `site.heads[${i}].layer`);
          c.int(o.head, `site.heads[${i}].head`);
        });
      }
      c.int(site.top_k, "site.top_k", true);
      if ((site.heads === undefined) === (site.top_k === undefined)) {
        c.fail("give exactly one of site.heads and site.top_k");
      }
      c.position(site.position, "site.position");
      c.num(p.alpha, "params.alpha");
      c.oneOf(p.scale, "params.scale", ["iti", "raw"], true);
      c.prompts(p.positive, "params.positive");
      c.prompts(p.negative, "params.negative");
      c.int(p.seed, "params.seed", true);
      c.num(p.val_ratio, "params.val_ratio", true);
      if (learned) {
        if (!Array.isArray(learned.heads) || learned.heads.length === 0)
          c.fail("learned.heads must be a non-empty list");
        (learned.heads as unknown[]).forEach((h, i) => {
          c.direction(h, `learned.heads[${i}]`);
          c.int((h as Obj).layer, `learned.heads[${i}].layer`);
          c.int((h as Obj).head, `learned.heads[${i}].head`);
        });
      }
      break;
    }
    case "resid_steer":
      c.int(site.layer, "site.layer");
      c.oneOf(site.hook, "site.hook", ["resid_pre", "resid_mid", "resid_post"], true);
      c.position(site.position, "site.position");
      c.num(p.alpha, "params.alpha");
      c.oneOf(p.scale, "params.scale", ["iti", "raw"], true);
      c.nums(p.vector, "params.vector", true);
      c.prompts(p.positive, "params.positive", true);
      c.prompts(p.negative, "params.negative", true);
      if (learned) c.direction(learned, "learned");
      else if (p.vector === undefined && (p.positive === undefined || p.negative === undefined)) {
        c.fail("give params.vector, or params.positive and params.negative");
      }
      break;
    case "loreft": {
      if (site.layers !== undefined) {
        if (!Array.isArray(site.layers) || site.layers.length === 0)
          c.fail("site.layers must be a non-empty list of layers");
        (site.layers as unknown[]).forEach((l, i) => {
          c.int(l, `site.layers[${i}]`);
        });
      }
      c.oneOf(site.hook, "site.hook", ["resid_pre", "resid_mid", "resid_post"], true);
      const pos = site.position;
      const posOk =
        pos === undefined ||
        pos === "last" ||
        pos === "aspect" ||
        (Array.isArray(pos) && pos.length > 0 && pos.every((x) => Number.isInteger(x) && x >= 0));
      if (!posOk) c.fail('site.position must be "last", "aspect" or a non-empty list of positions');
      for (const k of ["rank", "n_train", "n_test", "steps", "seed"])
        c.int(p[k], `params.${k}`, true);
      if (p.rank === 0) c.fail("params.rank must be at least 1");
      c.num(p.lr, "params.lr", true);
      if (learned) {
        if (!Array.isArray(learned.layers) || learned.layers.length === 0)
          c.fail("learned.layers must be a non-empty list");
        (learned.layers as unknown[]).forEach((l, i) => {
          const o = c.obj(l, `learned.layers[${i}]`);
          c.int(o.layer, `learned.layers[${i}].layer`);
          for (const k of ["R", "W", "b"]) c.nums(o[k], `learned.layers[${i}].${k}`);
        });
      }
      break;
    }
    case "lora": {
      if (site.layers !== undefined) {
        const l = site.layers;
        if (!Array.isArray(l) || l.length !== 2) c.fail("site.layers must be [first, last]");
        c.int((l as unknown[])[0], "site.layers[0]");
        c.int((l as unknown[])[1], "site.layers[1]");
      }
      c.str(p.prefix, "params.prefix");
      c.str(p.suffix, "params.suffix");
      if (p.prefix === "" || p.suffix === "")
        c.fail("params.prefix and params.suffix must not be empty");
      for (const k of ["rank", "steps", "seed", "texts"]) c.int(p[k], `params.${k}`, true);
      if (p.rank === 0) c.fail("params.rank must be at least 1");
      for (const k of ["alpha", "lr", "epsilon", "threshold"]) c.num(p[k], `params.${k}`, true);
      if (p.epsilon !== undefined && (p.epsilon as number) < 0)
        c.fail("params.epsilon must be ≥ 0");
      if (p.modules !== undefined) {
        if (!Array.isArray(p.modules) || p.modules.length === 0)
          c.fail('params.modules must be a non-empty list of "c_fc", "c_proj"');
        for (const [i, m] of (p.modules as unknown[]).entries())
          c.oneOf(m, `params.modules[${i}]`, LORA_MODULES);
      }
      if (p.eval_prompts !== undefined) {
        const ev = p.eval_prompts;
        if (!Array.isArray(ev) || ev.length === 0 || !ev.every((x) => typeof x === "string"))
          c.fail("params.eval_prompts must be a non-empty list of strings");
      }
      if (learned) {
        if (!Array.isArray(learned.factors) || learned.factors.length === 0)
          c.fail("learned.factors must be a non-empty list");
        (learned.factors as unknown[]).forEach((f, i) => {
          const o = c.obj(f, `learned.factors[${i}]`);
          c.int(o.layer, `learned.factors[${i}].layer`);
          c.oneOf(o.module, `learned.factors[${i}].module`, LORA_MODULES);
          c.nums(o.a, `learned.factors[${i}].a`);
          c.nums(o.b, `learned.factors[${i}].b`);
        });
      }
      break;
    }
  }
  return e as unknown as Edit;
}

/** Parses an edit file's JSON (an object with `edits`, or a bare list). */
export function parseEditFile(json: unknown): EditFile {
  const raw = Array.isArray(json) ? { version: EDIT_FORMAT_VERSION, edits: json } : json;
  if (!isObj(raw) || !Array.isArray(raw.edits)) {
    throw new EditError(
      "bad_edit",
      "an edit file is {version: 1, edits: [...]} or a list of edits",
    );
  }
  const version = raw.version ?? EDIT_FORMAT_VERSION;
  if (version !== EDIT_FORMAT_VERSION) {
    throw new EditError(
      "bad_edit",
      `edit file version ${String(version)} is not supported (this reads ${EDIT_FORMAT_VERSION})`,
    );
  }
  if (raw.model !== undefined && typeof raw.model !== "string") {
    throw new EditError("bad_edit", "model must be a string");
  }
  return {
    version: EDIT_FORMAT_VERSION,
    ...(raw.model !== undefined ? { model: raw.model as string } : {}),
    edits: raw.edits.map((e, i) => parseEdit(e, i)),
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
