/**
 * What an edit stack does to a model, as plain data, before any tensor is made: weight patches
 * (ROME's rank-one deltas; folded head and representation edits) and interventions at hooks.
 * lib/edit/apply.ts turns the plan into a model view on the device; lib/edit/checkpoint.ts
 * applies the same weight patches to host weights for `causeway edit --save`.
 *
 * Every intervention edit is one affine map per site, z ↦ s·z + a (zero: s = 0; mean ablation:
 * s = 0, a = mean; scale: s; steering: s = 1, a = α·σ·θ or α·b). Folding (ITI's weight form)
 * composes the maps of a site in stack order (s₁s₂, a₁s₂ + a₂) and writes them into the next
 * linear layer:
 *   head h of layer l (hook_z):    rows h·E…(h+1)·E of attn.c_proj.weight × s,
 *                                  attn.c_proj.bias += a · W_O[rows]
 *   blocks.l.hook_resid_post:      mlp.c_proj.bias of layer l += a
 *   blocks.l.hook_resid_mid:       attn.c_proj.bias of layer l += a
 *   blocks.l.hook_resid_pre, l>0:  mlp.c_proj.bias of layer l − 1 += a
 * which is exact only for edits at every position: a site is folded only when all of its
 * enabled edits use position "all" (and resid_pre of layer 0 never is).
 */

import type { Gpt2Config } from "../load/types";
import type { ModelIntervention } from "../model/hook-plan";
import { blockHook } from "../model/hooks";
import { batchPatches, checkBatch } from "./batch-site";
import { editDims, missingFoldBias, missingResidHook } from "./family-sites";
import { checkLora, type LowRankPatch, loraPatches } from "./lora-site";
import { loreftInterventions } from "./loreft-site";
import { checkSwea, sweaMatches } from "./swea-site";
import {
  describeEdit,
  type Edit,
  EditError,
  isEnabled,
  isLearned,
  type LoreftPosition,
  type PositionRule,
  type ResidHook,
  type SteerScale,
} from "./types";

/** A weight change, as data. Layouts are Conv1D: W is [in, out]. */
export type WeightPatch =
  /** mlp.c_proj.weight of `layer` += u vᵀ */
  | { type: "rank_one"; layer: number; u: number[]; v: number[] }
  /** attn.c_proj of `layer`: rows of head h × scale[h]; bias += Σ_h add[h] · W_O[rows of h] */
  | { type: "heads"; layer: number; scale: number[]; add: (number[] | null)[] }
  /** a bias += vec: mlp.c_proj.bias ("bOut") or attn.c_proj.bias ("bO") of `layer` */
  | { type: "bias"; layer: number; name: "bOut" | "bO"; vec: number[] }
  /** an MLP weight (mlp.c_fc "wIn" or mlp.c_proj "wOut") += s·A·B (LoRA, lib/edit/lora-site.ts) */
  | LowRankPatch;

/** One intervention edit's effect at one site: z ↦ s·z + a at the rule's positions. */
export interface SiteMap {
  hook: string;
  heads?: number[];
  position: PositionRule;
  scale: number;
  add: number[] | null;
  edit: number;
  /** A LoReFT site (activation-dependent, never folded): R, W, b and its own position rule. */
  loreft?: { R: number[]; W: number[]; b: number[]; rule: LoreftPosition };
  /** A SWEA lookup (hook_embed): offsets added wherever these tokens occur; never folded. */
  match?: { tokens: number[]; value: number[] }[];
}

export interface EditPlan {
  /** Enabled edits in stack order. */
  edits: Edit[];
  patches: WeightPatch[];
  /** Site maps kept as interventions (not folded), in stack order. */
  maps: SiteMap[];
  /** Indexes (into edits) of those folded into weights. */
  folded: number[];
}

export const defaultScale = (e: Edit): SteerScale =>
  e.kind === "resid_steer"
    ? (e.params.scale ?? "raw")
    : e.kind === "head_steer"
      ? (e.params.scale ?? "iti")
      : "iti";

function steerVector(
  d: { direction: number[]; norm: number; sigma: number },
  alpha: number,
  scale: SteerScale,
): number[] {
  const k = alpha * (scale === "iti" ? d.sigma : d.norm);
  return d.direction.map((x) => x * k);
}

/** The hook a representation edit reads from (learning) and is named by. */
export function residHook(layer: number, hook: ResidHook | undefined): string {
  return blockHook(layer, `hook_${hook ?? "resid_post"}`);
}

/**
 * The hook a representation edit acts at: resid_pre of layer l > 0 is the same tensor as
 * resid_post of layer l − 1, and acting there keeps the two equal in the edited model, which the
 * fast trace path relies on (it restarts block l from a restored resid_post of layer l − 1).
 */
export function residActHook(layer: number, hook: ResidHook | undefined): string {
  if (hook === "resid_pre" && layer > 0) return blockHook(layer - 1, "hook_resid_post");
  return residHook(layer, hook);
}

/** The site maps of one intervention edit (none for ROME). */
export function siteMaps(e: Edit, index: number): SiteMap[] {
  switch (e.kind) {
    case "rome":
    case "lora":
    case "memit":
    case "alphaedit":
    case "pmet":
      return [];
    case "swea":
      return [
        {
          hook: "hook_embed",
          position: "all",
          scale: 1,
          add: null,
          edit: index,
          match: sweaMatches(e),
        },
      ];
    case "head_ablate": {
      const mean = e.params.mode === "mean" ? e.learned!.mean : null;
      return [
        {
          hook: blockHook(e.site.layer, "attn.hook_z"),
          heads: [e.site.head],
          position: e.site.position ?? "all",
          scale: 0,
          add: mean,
          edit: index,
        },
      ];
    }
    case "head_scale":
      return [
        {
          hook: blockHook(e.site.layer, "attn.hook_z"),
          heads: [e.site.head],
          position: e.site.position ?? "all",
          scale: e.params.scale,
          add: null,
          edit: index,
        },
      ];
    case "head_steer": {
      const scale = defaultScale(e);
      return e.learned!.heads.map((h) => ({
        hook: blockHook(h.layer, "attn.hook_z"),
        heads: [h.head],
        position: e.site.position ?? "last",
        scale: 1,
        add: steerVector(h, e.params.alpha, scale),
        edit: index,
      }));
    }
    case "loreft":
      return e.learned!.layers.map((l) => ({
        hook: residActHook(l.layer, e.site.hook),
        position: "last",
        scale: 1,
        add: null,
        edit: index,
        loreft: { R: l.R, W: l.W, b: l.b, rule: e.site.position ?? "aspect" },
      }));
    case "resid_steer":
      return [
        {
          hook: residActHook(e.site.layer, e.site.hook),
          position: e.site.position ?? "last",
          scale: 1,
          add: steerVector(e.learned!, e.params.alpha, defaultScale(e)),
          edit: index,
        },
      ];
  }
}

/** Checks an edit's site and learned sizes against the model. */
export function checkEdit(e: Edit, config: Gpt2Config, where = describeEdit(e)): void {
  const { nLayer, nHead, dModel, dMlp, headDim: E } = editDims(config);
  const fail = (msg: string): never => {
    throw new EditError("bad_edit", `${where}: ${msg}`);
  };
  const layerOk = (l: unknown) =>
    Number.isInteger(l) && (l as number) >= 0 && (l as number) < nLayer;
  const headOk = (h: unknown) => Number.isInteger(h) && (h as number) >= 0 && (h as number) < nHead;
  const vec = (v: unknown, n: number, name: string) => {
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => Number.isFinite(x)))
      fail(`${name} must be ${n} finite numbers`);
  };
  if (e.kind === "rome") {
    if (e.site.layer !== undefined && !layerOk(e.site.layer))
      fail(`layer must be 0 to ${nLayer - 1}`);
    if (e.learned) {
      if (e.site.layer === undefined) fail("a learned ROME edit needs site.layer");
      vec(e.learned.u, dMlp, "learned.u");
      vec(e.learned.v, dModel, "learned.v");
    }
    return;
  }
  if (e.kind === "head_ablate" || e.kind === "head_scale") {
    if (!layerOk(e.site.layer)) fail(`layer must be 0 to ${nLayer - 1}`);
    if (!headOk(e.site.head)) fail(`head must be 0 to ${nHead - 1}`);
    if (e.kind === "head_ablate" && e.params.mode === "mean" && e.learned)
      vec(e.learned.mean, E, "learned.mean");
    return;
  }
  if (e.kind === "head_steer") {
    for (const h of e.site.heads ?? []) {
      if (!layerOk(h.layer) || !headOk(h.head)) fail(`head L${h.layer}H${h.head} does not exist`);
    }
    for (const h of e.learned?.heads ?? []) {
      if (!layerOk(h.layer) || !headOk(h.head)) fail(`head L${h.layer}H${h.head} does not exist`);
      vec(h.direction, E, `direction of L${h.layer}H${h.head}`);
    }
    return;
  }
  if (e.kind === "swea") {
    checkSwea(e, { dModel, vocabSize: config.vocabSize }, fail);
    return;
  }
  if (e.kind === "lora") {
    checkLora(e, config, fail);
    return;
  }
  if (e.kind === "memit" || e.kind === "alphaedit" || e.kind === "pmet") {
    checkBatch(e, { nLayer, dMlp, dModel }, fail);
    return;
  }
  if (e.kind === "loreft") {
    const layers = e.learned?.layers.map((l) => l.layer) ?? e.site.layers ?? [];
    if (!layers.every(layerOk)) fail(`layers must be 0 to ${nLayer - 1}`);
    if (new Set(layers).size !== layers.length) fail("a layer is repeated");
    const noHook = missingResidHook(config, e.site.hook ?? "resid_post");
    if (noHook) fail(noHook);
    const r = e.params.rank ?? 4;
    if (!Number.isInteger(r) || r < 1 || r > dModel) fail(`rank must be 1 to ${dModel}`);
    for (const l of e.learned?.layers ?? []) {
      vec(l.R, r * dModel, `learned R of layer ${l.layer} (rank ${r} × ${dModel})`);
      vec(l.W, r * dModel, `learned W of layer ${l.layer} (rank ${r} × ${dModel})`);
      vec(l.b, r, `learned b of layer ${l.layer}`);
    }
    return;
  }
  if (!layerOk(e.site.layer)) fail(`layer must be 0 to ${nLayer - 1}`);
  const noHook = missingResidHook(config, e.site.hook ?? "resid_post");
  if (noHook) fail(noHook);
  if (e.learned) vec(e.learned.direction, dModel, "learned.direction");
  if (e.params.vector) vec(e.params.vector, dModel, "params.vector");
}

/**
 * The plan of an edit stack. fold: turn every foldable site (all its edits at position "all")
 * into weight patches instead of interventions.
 */
export function planEdits(
  edits: readonly Edit[],
  config: Gpt2Config,
  opts: { fold?: boolean } = {},
): EditPlan {
  const enabled = edits.filter(isEnabled);
  const patches: WeightPatch[] = [];
  const maps: SiteMap[] = [];
  enabled.forEach((e, i) => {
    checkEdit(e, config);
    if (!isLearned(e)) {
      throw new EditError(
        "not_learned",
        `${describeEdit(e)} has no learned values: learn it first`,
      );
    }
    if (e.kind === "rome") {
      patches.push({ type: "rank_one", layer: e.site.layer!, u: e.learned!.u, v: e.learned!.v });
    }
    if (e.kind === "lora") patches.push(...loraPatches(e, config));
    if (e.kind === "memit" || e.kind === "alphaedit" || e.kind === "pmet")
      patches.push(...batchPatches(e));
    maps.push(...siteMaps(e, i));
  });
  if (!opts.fold) return { edits: enabled, patches, maps, folded: [] };
  const f = foldMaps(maps, config);
  return { edits: enabled, patches: [...patches, ...f.patches], maps: f.kept, folded: f.folded };
}

/**
 * Folding: every site whose edits are all at position "all" (and not resid_pre of layer 0, not
 * LoReFT) becomes weight patches; the other maps are kept as interventions.
 */
function foldMaps(
  maps: readonly SiteMap[],
  config: Gpt2Config,
): { patches: WeightPatch[]; kept: SiteMap[]; folded: number[] } {
  const patches: WeightPatch[] = [];

  const key = (m: SiteMap) => `${m.hook}#${m.heads?.[0] ?? ""}`;
  const foldable = new Map<string, boolean>();
  for (const m of maps) {
    const ok =
      m.position === "all" &&
      m.hook !== blockHook(0, "hook_resid_pre") &&
      !m.loreft &&
      !m.match &&
      missingFoldBias(config, m.hook, m.add !== null) === null; // Llama: no bias to fold into
    foldable.set(key(m), (foldable.get(key(m)) ?? true) && ok);
  }
  const E = editDims(config).headDim;
  const headPatch = new Map<number, { scale: number[]; add: (number[] | null)[] }>();
  const biasPatch = new Map<string, number[]>();
  const kept: SiteMap[] = [];
  const foldedEdits = new Set<number>();
  const keptEdits = new Set<number>();
  for (const m of maps) {
    if (!foldable.get(key(m))) {
      kept.push(m);
      keptEdits.add(m.edit);
      continue;
    }
    foldedEdits.add(m.edit);
    const z = /^blocks\.(\d+)\.attn\.hook_z$/.exec(m.hook);
    if (z) {
      const layer = Number(z[1]);
      let p = headPatch.get(layer);
      if (!p) {
        p = { scale: new Array(config.nHead).fill(1), add: new Array(config.nHead).fill(null) };
        headPatch.set(layer, p);
      }
      const h = m.heads![0];
      // compose (s, a) then (s', a'): z ↦ s'(s z + a) + a'
      p.scale[h] *= m.scale;
      const prev = p.add[h];
      const add = new Array<number>(E).fill(0);
      for (let i = 0; i < E; i++) add[i] = (prev ? prev[i] * m.scale : 0) + (m.add ? m.add[i] : 0);
      p.add[h] = prev || m.add ? add : null;
      continue;
    }
    const r = /^blocks\.(\d+)\.hook_(resid_pre|resid_mid|resid_post)$/.exec(m.hook)!;
    const layer = Number(r[1]);
    const target =
      r[2] === "resid_post"
        ? `${layer}:bOut`
        : r[2] === "resid_mid"
          ? `${layer}:bO`
          : `${layer - 1}:bOut`;
    const acc = biasPatch.get(target) ?? new Array<number>(config.dModel).fill(0);
    m.add!.forEach((x, i) => {
      acc[i] += x;
    });
    biasPatch.set(target, acc);
  }
  for (const [layer, p] of headPatch) patches.push({ type: "heads", layer, ...p });
  for (const [k, vec] of biasPatch) {
    const [layer, name] = k.split(":");
    patches.push({ type: "bias", layer: Number(layer), name: name as "bOut" | "bO", vec });
  }
  const folded = [...foldedEdits].filter((i) => !keptEdits.has(i)).sort((a, b) => a - b);
  return { patches, kept, folded };
}

/**
 * The interventions of site maps for a pass: `lengths` is the pass's length T (every row), or
 * each row's own length in a right-padded batch (then "last" is per row).
 */
export function mapInterventions(
  maps: readonly SiteMap[],
  lengths: number | readonly number[],
): ModelIntervention[] {
  const T = typeof lengths === "number" ? lengths : Math.max(...lengths);
  const out: ModelIntervention[] = [];
  for (const m of maps) {
    if (m.match) {
      if (m.match.length > 0) out.push({ hook: m.hook, op: "match_add", matches: m.match });
      continue;
    }
    if (m.loreft) {
      const { R, W, b, rule } = m.loreft;
      out.push(...loreftInterventions(m.hook, { R, W, b }, rule, lengths));
      continue;
    }
    const base = { hook: m.hook, ...(m.heads ? { heads: m.heads } : {}) };
    const ops = (extra: { positions?: number[]; batchIndex?: number[] }): ModelIntervention[] => {
      if (m.scale === 0 && !m.add) return [{ ...base, ...extra, op: "zero" }];
      if (m.scale === 0) return [{ ...base, ...extra, op: "replace", value: m.add! }];
      const list: ModelIntervention[] = [];
      if (m.scale !== 1) list.push({ ...base, ...extra, op: "scale", value: m.scale });
      if (m.add) list.push({ ...base, ...extra, op: "add", value: m.add });
      return list;
    };
    if (m.position === "all") out.push(...ops({}));
    else if (m.position === "last") {
      if (typeof lengths === "number" || new Set(lengths).size === 1) {
        out.push(...ops({ positions: [T - 1] }));
      } else if (m.scale === 1 && m.add) {
        // one add over rows × (every row's last position), zero where a row does not end there
        const positions = [...new Set(lengths.map((n) => n - 1))].sort((a, b) => a - b);
        const F = m.add.length;
        const value = new Float32Array(lengths.length * positions.length * F);
        lengths.forEach((n, r) => {
          value.set(m.add!, (r * positions.length + positions.indexOf(n - 1)) * F);
        });
        out.push({ ...base, positions, op: "add", value });
      } else {
        lengths.forEach((len, r) => {
          out.push(...ops({ positions: [len - 1], batchIndex: [r] }));
        });
      }
    } else {
      const positions = m.position.filter((p) => p < T);
      if (positions.length > 0) out.push(...ops({ positions }));
    }
  }
  return out;
}
