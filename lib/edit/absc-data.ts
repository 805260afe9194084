/**
 * The ABSC recipe's data (docs/recipes.md "ABSC"; Li et al. 2025, arXiv 2503.15117): training
 * reviews of one domain and held-out test reviews of the same domain (in-domain) and of another
 * (out-of-domain), from a model's dataset.json `absc_domains` (scripts/tiny-facts/sentiment.py):
 *
 *   absc_domains: { labels, train_domain, <domain>: { train?, dev?, test }, … }
 *
 * A dataset without it falls back to `absc` {labels, train, test}: one domain, no
 * out-of-domain split. The locate study traces the same prompts as known facts whose "subject"
 * is the aspect word in the review (its first occurrence), so dataset mode (lib/interp/dataset.ts)
 * averages the restore effects over the set.
 */
import type { KnownFact } from "../interp/dataset";
import type { EditDataset } from "./dataset";
import { isObj } from "./parse-checker";
import { shuffled } from "./probe";
import { EditError } from "./types";

export interface AbscReview {
  prompt: string;
  label: string;
  aspect?: string;
}

export interface AbscSplits {
  labels: string[];
  train_domain: string;
  /** Every training review of the train domain (the recipe takes a seeded n_train of them). */
  train: AbscReview[];
  /** Held-out splits by name: "in_domain" always, "out_of_domain" when there is another domain. */
  tests: { name: "in_domain" | "out_of_domain"; domain: string; reviews: AbscReview[] }[];
  /** Validation reviews of the train domain (disjoint from train and test), for choosing settings. */
  dev?: AbscReview[];
}

function reviews(x: unknown, where: string, labels: readonly string[]): AbscReview[] {
  if (!Array.isArray(x) || x.length === 0)
    throw new EditError("bad_dataset", `${where} must be a non-empty list of reviews`);
  return x.map((r, i) => {
    if (!isObj(r) || typeof r.prompt !== "string" || typeof r.label !== "string") {
      throw new EditError("bad_dataset", `${where}[${i}] lacks a prompt or a label string`);
    }
    if (!labels.includes(r.label)) {
      throw new EditError(
        "bad_dataset",
        `${where}[${i}]: label ${JSON.stringify(r.label)} is not one of ${JSON.stringify(labels)}`,
      );
    }
    const aspect = typeof r.aspect === "string" ? r.aspect : undefined;
    return { prompt: r.prompt, label: r.label, ...(aspect ? { aspect } : {}) };
  });
}

function labelsOf(x: unknown, where: string): string[] {
  if (!Array.isArray(x) || x.length < 2 || !x.every((l) => typeof l === "string" && l !== "")) {
    throw new EditError("bad_dataset", `${where} must list at least two label strings`);
  }
  return x as string[];
}

/** The splits of a dataset (absc_domains, else absc); a clear error when it has neither. */
export function abscSplits(dataset: EditDataset | undefined): AbscSplits {
  const raw = dataset as Record<string, unknown> | undefined;
  const doms = raw?.absc_domains;
  if (isObj(doms)) {
    const labels = labelsOf(doms.labels, "absc_domains.labels");
    const home = doms.train_domain;
    if (typeof home !== "string" || !isObj(doms[home])) {
      throw new EditError("bad_dataset", "absc_domains.train_domain must name one of its domains");
    }
    const own = doms[home] as Record<string, unknown>;
    const others = Object.keys(doms).filter(
      (k) => k !== home && k !== "labels" && k !== "train_domain" && isObj(doms[k]),
    );
    const tests: AbscSplits["tests"] = [
      {
        name: "in_domain",
        domain: home,
        reviews: reviews(own.test, `absc_domains.${home}.test`, labels),
      },
    ];
    if (others.length > 0) {
      const d = others[0];
      const split = (doms[d] as Record<string, unknown>).test;
      tests.push({
        name: "out_of_domain",
        domain: d,
        reviews: reviews(split, `absc_domains.${d}.test`, labels),
      });
    }
    return {
      labels,
      train_domain: home,
      train: reviews(own.train, `absc_domains.${home}.train`, labels),
      tests,
      ...(own.dev === undefined
        ? {}
        : { dev: reviews(own.dev, `absc_domains.${home}.dev`, labels) }),
    };
  }
  const absc = dataset?.absc;
  if (!absc) {
    throw new EditError(
      "bad_dataset",
      "the ABSC recipe needs the model's dataset.json absc_domains (or absc {labels, train, test})",
    );
  }
  const labels = labelsOf(absc.labels, "absc.labels");
  return {
    labels,
    train_domain: "absc",
    train: reviews(absc.train, "absc.train", labels),
    tests: [
      { name: "in_domain", domain: "absc", reviews: reviews(absc.test, "absc.test", labels) },
    ],
  };
}

/**
 * The same splits scored on the validation reviews instead of the test ones (one split, named
 * in_domain, domain "<train domain> dev"), so settings are tuned without looking at the tests.
 */
export function abscDevSplits(s: AbscSplits): AbscSplits {
  if (!s.dev) {
    throw new EditError(
      "bad_dataset",
      `this dataset has no ${s.train_domain} dev split (absc_domains.${s.train_domain}.dev)`,
    );
  }
  return { ...s, tests: [{ name: "in_domain", domain: `${s.train_domain} dev`, reviews: s.dev }] };
}

/** A seeded choice of n training reviews (the same shuffle as LoReFT's) and the first n_test of each test split. */
export function abscSample(
  s: AbscSplits,
  p: { n_train: number; n_test: number; seed: number },
): { train: AbscReview[]; tests: AbscSplits["tests"] } {
  if (!Number.isInteger(p.n_train) || p.n_train < 1 || p.n_train > s.train.length) {
    throw new EditError(
      "bad_edit",
      `n_train must be 1 to ${s.train.length} (the ${s.train_domain} train split)`,
    );
  }
  if (!Number.isInteger(p.n_test) || p.n_test < 1) {
    throw new EditError("bad_edit", "n_test must be a whole number ≥ 1");
  }
  const order = shuffled(s.train.length, p.seed);
  return {
    train: order.slice(0, p.n_train).map((i) => s.train[i]),
    tests: s.tests.map((t) => ({ ...t, reviews: t.reviews.slice(0, p.n_test) })),
  };
}

/**
 * Reviews as known facts for dataset-mode tracing: the aspect (its first occurrence, in the
 * review) is the corrupted "subject", the label the attribute. Reviews without an aspect field
 * take the word after "Sentiment of ".
 */
export function abscKnownFacts(rows: readonly AbscReview[]): KnownFact[] {
  return rows.map((r, i) => {
    const aspect = r.aspect ?? /Sentiment of (\S+):\s*$/.exec(r.prompt)?.[1];
    // " view", not the "view" inside "Review:"
    if (!aspect || !r.prompt.includes(` ${aspect}`)) {
      throw new EditError("bad_dataset", `review ${i} names no aspect that occurs in its prompt`);
    }
    return { known_id: i, subject: ` ${aspect}`, attribute: r.label, prompt: r.prompt };
  });
}
