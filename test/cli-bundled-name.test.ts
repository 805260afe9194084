/** `--model` near misses name the nearest bundled model (lib/cli/bundled-name.ts). */
import { describe, expect, it } from "vitest";
import { refuseNearMiss } from "../lib/cli/bundled-name";

const BUNDLED = ["tiny-facts", "tiny-facts-llama"];

describe("refuseNearMiss", () => {
  it("passes bundled names and hub: ids", () => {
    for (const name of [...BUNDLED, "hub:tiny-fact"]) {
      expect(() => refuseNearMiss(name, BUNDLED)).not.toThrow();
    }
  });

  it("suggests the bundled name a typo is nearest to", () => {
    expect(() => refuseNearMiss("tiny-facts-lama", BUNDLED)).toThrow(
      /did you mean "tiny-facts-llama"\? \(bundled: tiny-facts, tiny-facts-llama;/,
    );
    expect(() => refuseNearMiss("tiny-fact", BUNDLED)).toThrow(/did you mean "tiny-facts"\?/);
    // within two edits of both: the nearer one, not the first listed
    expect(() => refuseNearMiss("tiny-fact-l", ["tiny-fact", "tiny-fact-ll"])).toThrow(
      /did you mean "tiny-fact-ll"\?/,
    );
  });
});
