/**
 * Field checks for the edit parser (lib/edit/parse.ts): each names the edit and the field in its
 * message, and every count and scale is checked against its documented range
 * (lib/edit/bounds.ts) before any work starts.
 */
import { type BoundName, EDIT_BOUNDS, inBound, MAX_TEXT_CHARS, rangeText } from "./bounds";
import { EditError } from "./types";

export type Obj = Record<string, unknown>;
export const isObj = (x: unknown): x is Obj =>
  typeof x === "object" && x !== null && !Array.isArray(x);

export interface FieldOptions {
  /** undefined is accepted. */
  optional?: boolean;
  /** The range the number must lie in (lib/edit/bounds.ts). */
  bound?: BoundName;
}

export const DATASET_SETS = ["absc", "general_text", "known_facts", "consistency"] as const;
export const RESID_HOOKS = ["resid_pre", "resid_mid", "resid_post"] as const;

export class Checker {
  constructor(private readonly where: string) {}

  fail(msg: string): never {
    throw new EditError("bad_edit", `${this.where}: ${msg}`);
  }

  obj(x: unknown, name: string): Obj {
    if (!isObj(x)) this.fail(`${name} must be an object`);
    return x as Obj;
  }

  /** A number inside its bound: "at least 1" / "at most 1000" with the range and its meaning. */
  private inRange(x: number, name: string, bound: BoundName | undefined): void {
    if (!bound) return;
    const r = EDIT_BOUNDS[bound];
    if (inBound(x, r)) return;
    const side =
      x > r.max ? `at most ${r.max}` : r.minExclusive ? `above ${r.min}` : `at least ${r.min}`;
    this.fail(`${name} must be ${side} (${r.doc}: ${rangeText(r)})`);
  }

  int(x: unknown, name: string, o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (!Number.isInteger(x) || (x as number) < 0)
      this.fail(`${name} must be a non-negative integer`);
    this.inRange(x as number, name, o.bound);
  }

  num(x: unknown, name: string, o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (typeof x !== "number" || !Number.isFinite(x)) this.fail(`${name} must be a finite number`);
    this.inRange(x, name, o.bound);
  }

  str(x: unknown, name: string, o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (typeof x !== "string") this.fail(`${name} must be a string`);
    if (x.length > MAX_TEXT_CHARS)
      this.fail(`${name} has ${x.length} characters, more than ${MAX_TEXT_CHARS}`);
  }

  /** A list's length inside its bound (checked before its entries). */
  count(x: readonly unknown[], name: string, bound: BoundName): void {
    const r = EDIT_BOUNDS[bound];
    if (x.length > r.max)
      this.fail(`${name} has ${x.length} entries, more than ${r.max} (${r.doc})`);
  }

  nums(x: unknown, name: string, o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (!Array.isArray(x) || !x.every((v) => typeof v === "number" && Number.isFinite(v))) {
      this.fail(`${name} must be a list of finite numbers`);
    }
  }

  /** A non-empty list of strings, at most `bound` of them. */
  strs(x: unknown, name: string, bound: BoundName, o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (!Array.isArray(x) || x.length === 0 || !x.every((s) => typeof s === "string"))
      this.fail(`${name} must be a non-empty list of strings`);
    this.count(x, name, bound);
    x.forEach((s, i) => {
      this.str(s, `${name}[${i}]`);
    });
  }

  oneOf(x: unknown, name: string, options: readonly string[], o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (!options.includes(x as string)) this.fail(`${name} must be one of ${options.join(", ")}`);
  }

  /** An explicit position list: non-empty, bounded, every entry a bounded position. */
  private positionList(x: unknown): boolean {
    if (!Array.isArray(x) || x.length === 0) return false;
    if (!x.every((p) => Number.isInteger(p) && p >= 0)) return false;
    this.count(x, "site.position", "positions");
    x.forEach((p, i) => {
      this.inRange(p, `site.position[${i}]`, "position");
    });
    return true;
  }

  position(x: unknown, name: string): void {
    if (x === undefined || x === "last" || x === "all" || this.positionList(x)) return;
    this.fail(`${name} must be "last", "all" or a non-empty list of positions`);
  }

  /** LoReFT's rule: "last", "aspect" or explicit positions. */
  loreftPosition(x: unknown, name: string): void {
    if (x === undefined || x === "last" || x === "aspect" || this.positionList(x)) return;
    this.fail(`${name} must be "last", "aspect" or a non-empty list of positions`);
  }

  prompts(x: unknown, name: string, o: FieldOptions = {}): void {
    if (x === undefined && o.optional) return;
    if (Array.isArray(x)) {
      if (x.length === 0 || !x.every((s) => typeof s === "string")) {
        this.fail(`${name} must be a non-empty list of strings or {dataset, …}`);
      }
      this.strs(x, name, "prompts");
      return;
    }
    const s = this.obj(x, name);
    this.oneOf(s.dataset, `${name}.dataset`, DATASET_SETS);
    this.str(s.label, `${name}.label`, { optional: true });
    this.oneOf(s.split, `${name}.split`, ["train", "test"], { optional: true });
    this.str(s.relation, `${name}.relation`, { optional: true });
    this.int(s.limit, `${name}.limit`, { optional: true, bound: "prompts" });
  }

  direction(x: unknown, name: string): void {
    const o = this.obj(x, name);
    this.nums(o.direction, `${name}.direction`);
    this.num(o.norm, `${name}.norm`);
    this.num(o.sigma, `${name}.sigma`);
  }

  /** A non-empty list of objects, at most `bound` of them, each checked by `each`. */
  list(x: unknown, name: string, bound: BoundName, each: (o: Obj, name: string) => void): void {
    if (!Array.isArray(x) || x.length === 0) this.fail(`${name} must be a non-empty list`);
    this.count(x, name, bound);
    x.forEach((item, i) => {
      each(this.obj(item, `${name}[${i}]`), `${name}[${i}]`);
    });
  }
}
