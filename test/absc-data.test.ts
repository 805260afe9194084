/**
 * The ABSC recipe's data and table (lib/edit/absc-data.ts, lib/cli/absc.ts formatAbsc): domain
 * splits from dataset.json absc_domains (and the absc fallback), specific errors for bad input,
 * the seeded training sample, and the aspect as the traced "subject" (" view", never the "view"
 * inside "Review:").
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatAbsc } from "../lib/cli/absc";
import { abscDevSplits, abscKnownFacts, abscSample, abscSplits } from "../lib/edit/absc-data";
import { ABSC_DEFAULTS } from "../lib/edit/absc-train";
import type { EditDataset } from "../lib/edit/dataset";

const L = [" positive", " negative", " neutral"];
const rev = (prompt: string, label = " positive", aspect?: string) => ({
  prompt,
  label,
  ...(aspect ? { aspect } : {}),
});
const domains = (extra: Record<string, unknown> = {}) =>
  ({
    absc_domains: {
      labels: L,
      train_domain: "restaurant",
      restaurant: {
        train: [
          rev("Review: the food was great. Sentiment of food:"),
          rev("Review: the wine was bad. Sentiment of wine:", " negative"),
        ],
        test: [rev("Review: the coffee was okay. Sentiment of coffee:", " neutral")],
      },
      hotel: {
        test: [rev("Review: the view was lovely. Sentiment of view:", " positive", "view")],
      },
      ...extra,
    },
  }) as unknown as EditDataset;

describe("abscSplits", () => {
  it("reads the train domain and an out-of-domain test split", () => {
    const s = abscSplits(domains());
    expect(s.train_domain).toBe("restaurant");
    expect(s.train).toHaveLength(2);
    expect(s.tests.map((t) => [t.name, t.domain, t.reviews.length])).toEqual([
      ["in_domain", "restaurant", 1],
      ["out_of_domain", "hotel", 1],
    ]);
  });

  it("reads an optional dev split and scores on it instead of the tests", () => {
    expect(abscSplits(domains()).dev).toBeUndefined();
    expect(() => abscDevSplits(abscSplits(domains()))).toThrow(/no restaurant dev split/);
    const withDev = domains();
    const own = (withDev as unknown as { absc_domains: { restaurant: Record<string, unknown> } })
      .absc_domains.restaurant;
    own.dev = [rev("Review: the music was poor. Sentiment of music:", " negative")];
    const d = abscDevSplits(abscSplits(withDev));
    expect(d.tests.map((t) => [t.name, t.domain, t.reviews[0].label])).toEqual([
      ["in_domain", "restaurant dev", " negative"],
    ]);
    expect(d.train).toHaveLength(2);
    own.dev = [rev("p", " great")];
    expect(() => abscSplits(withDev)).toThrow(/absc_domains.restaurant.dev\[0\]: label " great"/);
  });

  it("falls back to absc {labels, train, test}: one domain", () => {
    const s = abscSplits({ absc: { labels: L, train: [rev("a b")], test: [rev("c d")] } });
    expect(s.tests.map((t) => t.name)).toEqual(["in_domain"]);
  });

  it("refuses bad data with a specific message", () => {
    expect(() => abscSplits(undefined)).toThrow(/needs the model's dataset.json absc_domains/);
    expect(() => abscSplits(domains({ train_domain: "spa" }))).toThrow(
      /train_domain must name one of its domains/,
    );
    expect(() => abscSplits(domains({ labels: ["x"] }))).toThrow(/at least two label strings/);
    const bad = domains();
    (bad as unknown as { absc_domains: { hotel: { test: unknown[] } } }).absc_domains.hotel.test = [
      rev("p", " great"),
    ];
    expect(() => abscSplits(bad)).toThrow(
      /absc_domains.hotel.test\[0\]: label " great" is not one of/,
    );
    const missing = domains();
    (
      missing as unknown as { absc_domains: { restaurant: { train: unknown[] } } }
    ).absc_domains.restaurant.train = [{ prompt: 3 }];
    expect(() => abscSplits(missing)).toThrow(/restaurant.train\[0\] lacks a prompt or a label/);
  });

  it("samples n_train reviews by the seed and refuses n_train beyond the split", () => {
    const s = abscSplits(domains());
    const a = abscSample(s, { n_train: 2, n_test: 5, seed: 1 });
    expect(new Set(a.train.map((r) => r.prompt)).size).toBe(2);
    expect(abscSample(s, { n_train: 2, n_test: 5, seed: 1 })).toEqual(a);
    expect(() => abscSample(s, { n_train: 3, n_test: 5, seed: 0 })).toThrow(
      /n_train must be 1 to 2 \(the restaurant train split\)/,
    );
  });
});

describe("abscKnownFacts", () => {
  it("corrupts the aspect in the review, with its leading space", () => {
    const [f] = abscKnownFacts([
      rev("Review: the view was lovely. Sentiment of view:", " positive", "view"),
    ]);
    expect(f).toMatchObject({ subject: " view", attribute: " positive" });
    // the aspect from the prompt's tail when the review has no aspect field
    expect(
      abscKnownFacts([rev("Review: the room was bad. Sentiment of room:", " negative")])[0].subject,
    ).toBe(" room");
    expect(() => abscKnownFacts([rev("no aspect here", " positive")])).toThrow(/names no aspect/);
  });

  it("every bundled review names its aspect in the prompt", () => {
    const file = path.join(__dirname, "../public/models/tiny-facts/dataset.json");
    const s = abscSplits(JSON.parse(readFileSync(file, "utf8")));
    expect(s.train.length).toBeGreaterThanOrEqual(ABSC_DEFAULTS.n_train);
    for (const t of s.tests) expect(abscKnownFacts(t.reviews)).toHaveLength(t.reviews.length);
  });
});

describe("formatAbsc", () => {
  it("prints one row per method with params and before → after per split", () => {
    const text = formatAbsc({
      model: "m",
      backend: "cpu",
      train_domain: "restaurant",
      params: ABSC_DEFAULTS,
      methods: [
        {
          method: "joint",
          layers: [2],
          params: 2052,
          losses: [
            { step: 0, loss: 1.2 },
            { step: 1, loss: 0.5 },
          ],
          splits: [{ name: "in_domain", domain: "restaurant", n: 300, before: 0.4, after: 0.9 }],
        },
      ],
    });
    expect(text).toContain("in_domain (restaurant, n=300) before → after");
    expect(text).toMatch(/joint\s+2\s+2052\s+0\.5000\s+40\.0% → 90\.0%/);
  });
});
