/**
 * SWEA's settings in the app's forms (the SWEA form and the Batch form's SWEA settings): each
 * row's range is the edit parser's bound of the same hyper-parameter (lib/edit/parse-kinds.ts
 * swea), its default SWEA's own (lib/edit/swea-params.ts SWEA_DEFAULTS), so what a form accepts
 * an edit file accepts too (test/swea-form.test.ts). Keys are SWEA's hparams names.
 */
import { EDIT_BOUNDS } from "../edit/bounds";
import { SWEA_DEFAULTS } from "../edit/swea-params";
import { fromBound, type NumParam } from "./schema";

export const SWEA_PARAMS = {
  v_num_grad_steps: fromBound(EDIT_BOUNDS.rome_steps, {
    integer: true,
    label: "steps",
    default: SWEA_DEFAULTS.v_num_grad_steps,
  }),
  v_lr: fromBound(EDIT_BOUNDS.rome_lr, {
    integer: false,
    label: "the learning rate",
    default: SWEA_DEFAULTS.v_lr,
  }),
  kl_factor: fromBound(EDIT_BOUNDS.kl_weight, {
    integer: false,
    label: "the KL weight",
    default: SWEA_DEFAULTS.kl_factor,
  }),
  v_weight_decay: fromBound(EDIT_BOUNDS.weight_decay, {
    integer: false,
    label: "the norm penalty",
    default: SWEA_DEFAULTS.v_weight_decay,
  }),
  clamp_norm_factor: fromBound(EDIT_BOUNDS.clamp, {
    integer: false,
    label: "the clamp",
    default: SWEA_DEFAULTS.clamp_norm_factor,
  }),
  // the parser's own 0–1 check of kn_threshold (no EDIT_BOUNDS row: it is a share, not a count)
  kn_threshold: {
    integer: false,
    min: 0,
    max: 1,
    default: SWEA_DEFAULTS.kn_threshold,
    label: "the knowledge threshold",
    doc: "a dimension is suppressed when its attribution exceeds this share of the largest",
  },
} as const satisfies Record<string, NumParam>;

export type SweaParamName = keyof typeof SWEA_PARAMS;
