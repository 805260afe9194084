/**
 * Dataset slice: causal traces averaged over known facts (ROME's Figure 2) — the model's own
 * dataset.json, or a file the user drops in.
 */
import type { StateCreator } from "zustand/vanilla";
import type { KnownFact } from "../interp/dataset";
import { paramError } from "../params/schema";
import { DATASET_PARAMS, TRACE_PARAMS } from "../params/table";
import type { FromWorker } from "../protocol";
import type { Context } from "./context";
import { fail, modelBlocker, NO_WORKER } from "./errors";
import { applyRunMessage, IDLE_RUN, startRun } from "./run";
import type { CausewayState, DatasetSlice, UiError } from "./types";

export function initialDataset(): DatasetSlice["dataset"] {
  return {
    settings: {
      samples: 3,
      limit: 10,
      kinds: ["hidden", "mlp", "attn"],
      facts: null,
      factsName: null,
      answerAmong: null,
    },
    formError: null,
    run: IDLE_RUN,
    result: null,
  };
}

/**
 * Known facts from a file's text: a list, or { known_facts: [...] }; every fact needs string
 * prompt, subject and attribute. The worker checks them again (lib/interp parseKnownFacts).
 */
export function parseFactsFile(text: string, name: string): KnownFact[] | UiError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { code: "bad_file", message: `${name} is not JSON (${(e as Error).message})` };
  }
  const list = Array.isArray(json)
    ? json
    : json &&
        typeof json === "object" &&
        Array.isArray((json as { known_facts?: unknown }).known_facts)
      ? (json as { known_facts: unknown[] }).known_facts
      : null;
  if (!list) {
    return {
      code: "bad_file",
      message: `${name}: expected a list of known facts or { "known_facts": [...] }`,
    };
  }
  if (list.length === 0) return { code: "bad_file", message: `${name} has no facts` };
  for (let i = 0; i < list.length; i++) {
    const f = list[i] as Record<string, unknown> | null;
    for (const k of ["prompt", "subject", "attribute"]) {
      if (typeof f?.[k] !== "string") {
        return { code: "bad_file", message: `${name}: fact ${i} has no string "${k}"` };
      }
    }
  }
  return list as KnownFact[];
}

export function reduceDataset(
  dataset: DatasetSlice["dataset"],
  msg: FromWorker,
): DatasetSlice["dataset"] {
  if (msg.reqId !== dataset.run.reqId) return dataset;
  if (msg.type === "dataset") return { ...dataset, result: msg.result };
  const run = applyRunMessage(dataset.run, msg);
  return run === dataset.run ? dataset : { ...dataset, run };
}

/** Samples and facts on the settings table's bounds (lib/params/table.ts), as the CLI's. */
function settingError(samples: number, limit: number): UiError | null {
  const msg =
    paramError(TRACE_PARAMS.samples, samples) ??
    paramError({ ...DATASET_PARAMS.limit, label: "the number of facts" }, limit);
  return msg ? fail("bad_spec", `${msg}.`) : null;
}

export function createDatasetSlice(
  ctx: Context,
): StateCreator<CausewayState, [], [], DatasetSlice> {
  return (set, get) => ({
    dataset: initialDataset(),
    setDatasetSettings(p) {
      // candidates belong to the facts they came with: other facts drop them unless they bring their own
      const among = "facts" in p && !("answerAmong" in p) ? { answerAmong: null } : {};
      set((s) => ({
        dataset: { ...s.dataset, settings: { ...s.dataset.settings, ...p, ...among } },
      }));
    },
    loadFactsFile(text, name) {
      const parsed = parseFactsFile(text, name);
      set((s) =>
        Array.isArray(parsed)
          ? {
              dataset: {
                ...s.dataset,
                formError: null,
                settings: {
                  ...s.dataset.settings,
                  facts: parsed,
                  factsName: name,
                  answerAmong: null,
                },
              },
            }
          : { dataset: { ...s.dataset, formError: parsed } },
      );
    },
    runDataset() {
      const s = get();
      const { samples, limit, kinds, facts, answerAmong } = s.dataset.settings;
      const invalid =
        modelBlocker(s.model) ??
        (kinds.length === 0
          ? fail("bad_spec", "Choose at least one kind to trace.")
          : settingError(samples, limit));
      if (invalid || !ctx.port) {
        const formError = invalid ?? NO_WORKER;
        set((s2) => ({ dataset: { ...s2.dataset, formError } }));
        return;
      }
      set((s2) => ({ dataset: { ...s2.dataset, result: null, formError: null } }));
      startRun(ctx, set, "dataset", {
        type: "dataset",
        kinds: [...kinds],
        samples,
        limit,
        ...(facts ? { facts } : {}),
        ...(facts && answerAmong ? { answerAmong } : {}),
      });
    },
  });
}
