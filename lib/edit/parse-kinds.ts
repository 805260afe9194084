/**
 * The structure checks of each edit kind (docs/edits.md), one function per kind, called by
 * lib/edit/parse.ts parseEdit with the edit's site, params and learned objects.
 */
import { checkForget } from "./forget";
import { type Checker, type Obj, RESID_HOOKS } from "./parse-checker";
import { COV_SOURCES, DELTA_AT, type EditKind, LORA_MODULES } from "./types";

export interface EditParts {
  site: Obj;
  params: Obj;
  learned: Obj | undefined;
}

type KindCheck = (c: Checker, e: EditParts) => void;

/** An optional non-empty list of layers (LoReFT, MEMIT, AlphaEdit). */
function layerList(c: Checker, layers: unknown): void {
  if (layers === undefined) return;
  if (!Array.isArray(layers) || layers.length === 0)
    c.fail("site.layers must be a non-empty list of layers");
  c.count(layers, "site.layers", "layers");
  layers.forEach((l, i) => {
    c.int(l, `site.layers[${i}]`);
  });
}

/** ROME's and MEMIT's context templates: lengths, texts per length, seed, top-k. */
function contextCheck(c: Checker, x: unknown): void {
  const ctx = c.obj(x, "params.context");
  if (ctx.lengths !== undefined) {
    if (!Array.isArray(ctx.lengths)) c.fail("params.context.lengths must be a list");
    c.count(ctx.lengths, "params.context.lengths", "context_lengths");
    ctx.lengths.forEach((n, i) => {
      c.int(n, `params.context.lengths[${i}]`, { bound: "context_length" });
    });
  }
  c.int(ctx.per_length, "params.context.per_length", {
    optional: true,
    bound: "context_per_length",
  });
  c.int(ctx.seed, "params.context.seed", { optional: true, bound: "seed" });
  c.int(ctx.top_k, "params.context.top_k", { optional: true, bound: "context_top_k" });
}

function rome(c: Checker, { site, params: p, learned }: EditParts): void {
  c.int(site.layer, "site.layer", { optional: true });
  for (const k of ["prompt", "subject", "target_new"]) c.str(p[k], `params.${k}`);
  if (!(p.prompt as string).includes("{}"))
    c.fail('params.prompt needs "{}" where the subject goes');
  c.str(p.target_true, "params.target_true", { optional: true });
  c.int(p.steps, "params.steps", { optional: true, bound: "rome_steps" });
  c.int(p.case_id, "params.case_id", { optional: true });
  c.int(p.cov_texts, "params.cov_texts", { optional: true, bound: "cov_texts" });
  c.num(p.lr, "params.lr", { optional: true, bound: "rome_lr" });
  for (const k of [
    "kl_weight",
    "weight_decay",
    "clamp",
    "early_stop",
    "shrinkage",
    "preserve",
    "preserve_cost",
  ] as const) {
    c.num(p[k], `params.${k}`, { optional: true, bound: k });
  }
  c.strs(p.kl_prompts, "params.kl_prompts", "kl_prompts", { optional: true });
  c.strs(p.paraphrase_prompts, "params.paraphrase_prompts", "extra_prompts", { optional: true });
  c.strs(p.neighborhood_prompts, "params.neighborhood_prompts", "extra_prompts", {
    optional: true,
  });
  c.oneOf(p.cov, "params.cov", COV_SOURCES, { optional: true });
  c.oneOf(p.update_key, "params.update_key", ["bare", "mean"], { optional: true });
  c.oneOf(p.delta_at, "params.delta_at", DELTA_AT, { optional: true });
  if (p.context !== undefined) contextCheck(c, p.context);
  if (learned) {
    c.nums(learned.u, "learned.u");
    c.nums(learned.v, "learned.v");
  }
}

function headSingle(c: Checker, { site, params: p, learned }: EditParts, kind: EditKind): void {
  c.int(site.layer, "site.layer");
  c.int(site.head, "site.head");
  c.position(site.position, "site.position");
  if (kind === "head_scale") {
    c.num(p.scale, "params.scale", { bound: "head_scale" });
    return;
  }
  c.oneOf(p.mode, "params.mode", ["zero", "mean"]);
  c.prompts(p.prompts, "params.prompts", { optional: p.mode !== "mean" });
  if (learned) c.nums(learned.mean, "learned.mean");
}

const headRef = (c: Checker) => (o: Obj, name: string) => {
  c.int(o.layer, `${name}.layer`);
  c.int(o.head, `${name}.head`);
};

function headSteer(c: Checker, { site, params: p, learned }: EditParts): void {
  if (site.heads !== undefined) c.list(site.heads, "site.heads", "heads", headRef(c));
  c.int(site.top_k, "site.top_k", { optional: true, bound: "top_k" });
  if ((site.heads === undefined) === (site.top_k === undefined)) {
    c.fail("give exactly one of site.heads and site.top_k");
  }
  c.position(site.position, "site.position");
  c.num(p.alpha, "params.alpha", { bound: "alpha" });
  c.oneOf(p.scale, "params.scale", ["iti", "raw"], { optional: true });
  c.prompts(p.positive, "params.positive");
  c.prompts(p.negative, "params.negative");
  c.int(p.seed, "params.seed", { optional: true, bound: "seed" });
  c.num(p.val_ratio, "params.val_ratio", { optional: true, bound: "val_ratio" });
  if (learned) {
    c.list(learned.heads, "learned.heads", "heads", (h, name) => {
      c.direction(h, name);
      headRef(c)(h, name);
    });
  }
}

function residSteer(c: Checker, { site, params: p, learned }: EditParts): void {
  c.int(site.layer, "site.layer");
  c.oneOf(site.hook, "site.hook", RESID_HOOKS, { optional: true });
  c.position(site.position, "site.position");
  c.num(p.alpha, "params.alpha", { bound: "alpha" });
  c.oneOf(p.scale, "params.scale", ["iti", "raw"], { optional: true });
  c.nums(p.vector, "params.vector", { optional: true });
  c.prompts(p.positive, "params.positive", { optional: true });
  c.prompts(p.negative, "params.negative", { optional: true });
  if (learned) c.direction(learned, "learned");
  else if (p.vector === undefined && (p.positive === undefined || p.negative === undefined)) {
    c.fail("give params.vector, or params.positive and params.negative");
  }
}

function loreft(c: Checker, { site, params: p, learned }: EditParts): void {
  layerList(c, site.layers);
  c.oneOf(site.hook, "site.hook", RESID_HOOKS, { optional: true });
  c.loreftPosition(site.position, "site.position");
  c.int(p.rank, "params.rank", { optional: true, bound: "loreft_rank" });
  c.int(p.n_train, "params.n_train", { optional: true, bound: "n_train" });
  c.int(p.n_test, "params.n_test", { optional: true, bound: "n_test" });
  c.int(p.steps, "params.steps", { optional: true, bound: "loreft_steps" });
  c.int(p.seed, "params.seed", { optional: true, bound: "seed" });
  c.num(p.lr, "params.lr", { optional: true, bound: "loreft_lr" });
  if (learned) {
    c.list(learned.layers, "learned.layers", "layers", (o, name) => {
      c.int(o.layer, `${name}.layer`);
      for (const k of ["R", "W", "b"]) c.nums(o[k], `${name}.${k}`);
    });
  }
}

function lora(c: Checker, { site, params: p, learned }: EditParts): void {
  if (site.layers !== undefined) {
    const l = site.layers;
    if (!Array.isArray(l) || l.length !== 2) c.fail("site.layers must be [first, last]");
    c.int(l[0], "site.layers[0]");
    c.int(l[1], "site.layers[1]");
  }
  c.str(p.prefix, "params.prefix");
  c.str(p.suffix, "params.suffix");
  if (p.prefix === "" || p.suffix === "")
    c.fail("params.prefix and params.suffix must not be empty");
  c.int(p.rank, "params.rank", { optional: true, bound: "lora_rank" });
  c.int(p.steps, "params.steps", { optional: true, bound: "lora_steps" });
  c.int(p.seed, "params.seed", { optional: true, bound: "seed" });
  c.int(p.texts, "params.texts", { optional: true, bound: "texts" });
  c.num(p.alpha, "params.alpha", { optional: true, bound: "lora_alpha" });
  c.num(p.lr, "params.lr", { optional: true, bound: "lora_lr" });
  c.num(p.epsilon, "params.epsilon", { optional: true, bound: "epsilon" });
  c.num(p.threshold, "params.threshold", { optional: true, bound: "threshold" });
  if (p.modules !== undefined) {
    if (!Array.isArray(p.modules) || p.modules.length === 0)
      c.fail(`params.modules must be a non-empty list of ${LORA_MODULES.join(", ")}`);
    for (const [i, m] of p.modules.entries()) c.oneOf(m, `params.modules[${i}]`, LORA_MODULES);
  }
  if (p.eval_prompts !== undefined) {
    const ev = p.eval_prompts;
    if (!Array.isArray(ev) || ev.length === 0 || !ev.every((x) => typeof x === "string"))
      c.fail("params.eval_prompts must be a non-empty list of strings");
    c.strs(ev, "params.eval_prompts", "eval_prompts");
  }
  if (p.full !== undefined && typeof p.full !== "boolean")
    c.fail("params.full must be true or false");
  if (p.forget !== undefined)
    checkForget(c.obj(p.forget, "params.forget") as never, (m) => c.fail(`params.${m}`));
  if (learned) {
    c.list(learned.factors, "learned.factors", "layers", (o, name) => {
      c.int(o.layer, `${name}.layer`);
      c.oneOf(o.module, `${name}.module`, LORA_MODULES);
      c.nums(o.a, `${name}.a`);
      c.nums(o.b, `${name}.b`);
    });
  }
}

/** MEMIT / AlphaEdit / PMET: the requests in ROME's fields, the hparams by MEMIT's names. */
function batch(c: Checker, { site, params: p, learned }: EditParts): void {
  layerList(c, site.layers);
  c.list(p.requests, "params.requests", "requests", (r, name) => {
    for (const k of ["prompt", "subject", "target_new"]) c.str(r[k], `${name}.${k}`);
    c.str(r.target_true, `${name}.target_true`, { optional: true });
    c.int(r.case_id, `${name}.case_id`, { optional: true });
  });
  if (p.blue !== undefined && typeof p.blue !== "boolean")
    c.fail("params.blue must be true or false");
  c.int(p.v_num_grad_steps, "params.v_num_grad_steps", { optional: true, bound: "rome_steps" });
  c.num(p.v_lr, "params.v_lr", { optional: true, bound: "rome_lr" });
  c.num(p.v_weight_decay, "params.v_weight_decay", { optional: true, bound: "weight_decay" });
  c.num(p.clamp_norm_factor, "params.clamp_norm_factor", { optional: true, bound: "clamp" });
  c.num(p.kl_factor, "params.kl_factor", { optional: true, bound: "kl_weight" });
  c.num(p.mom2_update_weight, "params.mom2_update_weight", {
    optional: true,
    bound: "mom2_update_weight",
  });
  c.oneOf(p.mom2_dataset, "params.mom2_dataset", COV_SOURCES, { optional: true });
  c.int(p.mom2_n_samples, "params.mom2_n_samples", { optional: true, bound: "cov_texts" });
  c.num(p.mom2_shrinkage, "params.mom2_shrinkage", { optional: true, bound: "shrinkage" });
  c.num(p.nullspace_threshold, "params.nullspace_threshold", {
    optional: true,
    bound: "nullspace_threshold",
  });
  c.num(p.L2, "params.L2", { optional: true, bound: "l2" });
  c.num(p.nll_loss_factor, "params.nll_loss_factor", { optional: true, bound: "nll_loss_factor" });
  c.int(p.v_loss_layer, "params.v_loss_layer", { optional: true });
  if (p.context !== undefined) contextCheck(c, p.context);
  if (learned) {
    c.list(learned.layers, "learned.layers", "layers", (o, name) => {
      c.int(o.layer, `${name}.layer`);
      c.nums(o.a, `${name}.a`);
      c.nums(o.b, `${name}.b`);
      c.nums(o.keys, `${name}.keys`, { optional: true });
    });
  }
}

/** SWEA: the requests in ROME's fields, the hparams by SWEA's names (lib/edit/swea-types.ts). */
function swea(c: Checker, { site, params: p, learned }: EditParts): void {
  if (Object.keys(site).length > 0)
    c.fail("swea has no site (it alters the subject's token embeddings)");
  c.list(p.requests, "params.requests", "requests", (r, name) => {
    for (const k of ["prompt", "subject", "target_new"]) c.str(r[k], `${name}.${k}`);
    c.str(r.target_true, `${name}.target_true`, { optional: true });
    c.int(r.case_id, `${name}.case_id`, { optional: true });
  });
  c.int(p.v_num_grad_steps, "params.v_num_grad_steps", { optional: true, bound: "rome_steps" });
  c.int(p.kn_steps, "params.kn_steps", { optional: true, bound: "rome_steps" });
  c.num(p.v_lr, "params.v_lr", { optional: true, bound: "rome_lr" });
  c.num(p.v_weight_decay, "params.v_weight_decay", { optional: true, bound: "weight_decay" });
  c.num(p.clamp_norm_factor, "params.clamp_norm_factor", { optional: true, bound: "clamp" });
  c.num(p.kl_factor, "params.kl_factor", { optional: true, bound: "kl_weight" });
  c.num(p.nll_loss_factor, "params.nll_loss_factor", { optional: true, bound: "kl_weight" });
  for (const k of ["kn_threshold", "suppress_factor"]) {
    c.num(p[k], `params.${k}`, { optional: true });
    if (p[k] !== undefined && ((p[k] as number) < 0 || (p[k] as number) > 1))
      c.fail(`params.${k} must be 0 to 1`);
  }
  c.oneOf(p.mode, "params.mode", ["kn+optimize", "optimize"], { optional: true });
  c.oneOf(p.v_init, "params.v_init", ["embedding", "zero"], { optional: true });
  if (p.context !== undefined) contextCheck(c, p.context);
  if (learned) {
    c.list(learned.fusions, "learned.fusions", "requests", (o, name) => {
      c.int(o.request, `${name}.request`);
      c.nums(o.tokens, `${name}.tokens`);
      c.nums(o.offsets, `${name}.offsets`);
    });
  }
}

/** The check of each kind's site, params and learned values. */
export const KIND_CHECKS: Record<EditKind, KindCheck> = {
  rome,
  head_ablate: (c, e) => headSingle(c, e, "head_ablate"),
  head_scale: (c, e) => headSingle(c, e, "head_scale"),
  head_steer: headSteer,
  resid_steer: residSteer,
  loreft,
  lora,
  memit: batch,
  alphaedit: batch,
  swea,
  pmet: batch,
};
