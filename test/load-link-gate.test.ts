/**
 * Links and session files are untrusted (issue 10.1, 10.4): a model from another origin or the
 * hub loads only after the user confirms, shown the real origin and repository; declining, or a
 * refused address (credentials, an unknown bundled name), keeps the current model and applies
 * the rest of the session; the name on screen comes from the source, never from the link.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { LoadError } from "../lib/load/errors";
import { normalizeEndpoint } from "../lib/load/hub-source";
import { type ForeignSource, foreignSource, modelDisplayName } from "../lib/load/source-trust";
import { urlSource } from "../lib/load/url-source";
import type { ModelSource } from "../lib/protocol";
import { openSession } from "../lib/share/open";
import { DEFAULT_SESSION, type SharedSession } from "../lib/share/session";
import { type CausewayStore, createCausewayStore } from "../lib/store";
import { FakePort } from "./store-fake-port";

const PAGE = "https://causeway.example";
const BUNDLED: ModelSource = { kind: "bundled", name: "tiny-facts" };
const FOREIGN: ModelSource = {
  kind: "url",
  baseUrl: "http://192.168.1.7:8000/models/evil/",
  name: "tiny-facts (bundled)",
};

function refusal(fn: () => unknown): LoadError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LoadError) return e;
    throw e;
  }
  throw new Error("expected a LoadError");
}

describe("foreignSource: what a link may load without asking", () => {
  it("bundled models on the allow-list and the page's own files load without asking", () => {
    expect(foreignSource(BUNDLED, PAGE)).toBeNull();
    expect(foreignSource({ kind: "url", baseUrl: "/models/tiny-facts/" }, PAGE)).toBeNull();
    expect(foreignSource({ kind: "url", baseUrl: `${PAGE}/models/x/` }, PAGE)).toBeNull();
  });

  it("another origin (a private address too) and any hub repo must be confirmed", () => {
    expect(foreignSource(FOREIGN, PAGE)).toEqual({
      kind: "url",
      origin: "http://192.168.1.7:8000",
      repo: "/models/evil/",
    });
    expect(foreignSource({ kind: "hub", repo: "gpt2" }, PAGE)).toEqual({
      kind: "hub",
      origin: "https://huggingface.co",
      repo: "gpt2@main",
    });
    expect(
      foreignSource(
        { kind: "hub", repo: "o/m", revision: "v1", endpoint: "http://10.0.0.2:81/" },
        PAGE,
      ),
    ).toEqual({ kind: "hub", origin: "http://10.0.0.2:81", repo: "o/m@v1" });
  });

  it.each([
    "tiny-fact",
    "..",
    "tiny-facts/../x",
  ])("an unknown bundled name %j is refused", (name) => {
    const e = refusal(() => foreignSource({ kind: "bundled", name }, PAGE));
    expect(e.code).toBe("refused_source");
    expect(e.message).toContain("is not a bundled model (bundled: tiny-facts, tiny-facts-llama)");
  });

  it("credentials in an address are refused and never printed", () => {
    const cases: (() => unknown)[] = [
      () => foreignSource({ kind: "url", baseUrl: "https://alice:s3cret@h.example/m/" }, PAGE),
      () =>
        foreignSource(
          { kind: "hub", repo: "gpt2", endpoint: "https://alice:s3cret@h.example" },
          PAGE,
        ),
      () => normalizeEndpoint("https://alice:s3cret@h.example"),
      () => normalizeEndpoint("ftp://alice:s3cret@h.example"),
      () => urlSource("https://alice:s3cret@h.example/m"),
    ];
    for (const c of cases) {
      const e = refusal(c);
      expect(e.message).not.toContain("s3cret");
      expect(e.message).not.toContain("alice");
    }
    expect(refusal(cases[0]).message).toContain(
      "a user name or password in it (https://…@h.example)",
    );
  });
});

describe("modelDisplayName: derived from the source, never from the link", () => {
  it("a link's own name is ignored: the folder and the host are shown", () => {
    expect(modelDisplayName(FOREIGN, PAGE)).toBe("evil (192.168.1.7:8000)");
    expect(modelDisplayName({ kind: "url", baseUrl: "/models/mine/", name: "x" }, PAGE)).toBe(
      "mine",
    );
    expect(modelDisplayName({ kind: "hub", repo: "gpt2" })).toBe("gpt2");
    expect(
      modelDisplayName({
        kind: "hub",
        repo: "o/m",
        revision: "v1",
        endpoint: "http://10.0.0.2:81",
      }),
    ).toBe("o/m@v1 (10.0.0.2:81)");
  });
});

describe("openSession gates the link's model", () => {
  let store: CausewayStore;
  let port: FakePort;
  const session = (model: ModelSource): SharedSession => ({
    ...DEFAULT_SESSION,
    model,
    prompt: "Ralkrok Stennos lives in the city of",
    samples: 3,
  });

  beforeEach(() => {
    store = createCausewayStore({ debounceMs: 0, initialPrompt: "The page's example" });
    port = new FakePort();
    store.getState().connect(port);
    store.getState().loadModel(BUNDLED);
  });

  it("without a confirmation a foreign model is never fetched; the rest is applied", () => {
    const kept: string[] = [];
    openSession(store, session(FOREIGN), () => {}, {
      pageOrigin: PAGE,
      onModelKept: (r) => kept.push(r),
    });
    expect(port.loads.map((l) => l.source)).toEqual([BUNDLED]);
    expect(store.getState().predict.prompt).toBe("Ralkrok Stennos lives in the city of");
    expect(store.getState().trace.settings.samples).toBe(3);
    expect(kept).toEqual([
      "Kept the current model: /models/evil/ from http://192.168.1.7:8000 was not loaded.",
    ]);
  });

  it("nothing is applied while the user decides; Load fetches it, declining keeps the model", async () => {
    for (const answer of [true, false]) {
      store.getState().setPrompt("before");
      const asked: ForeignSource[] = [];
      let decide: (yes: boolean) => void = () => {};
      openSession(store, session(FOREIGN), () => {}, {
        pageOrigin: PAGE,
        confirmModel: (ask) => {
          asked.push(ask);
          return new Promise((r) => {
            decide = r;
          });
        },
      });
      expect(asked).toEqual([
        { kind: "url", origin: "http://192.168.1.7:8000", repo: "/models/evil/" },
      ]);
      expect(store.getState().predict.prompt).toBe("before");
      const loads = port.loads.length;
      decide(answer);
      await Promise.resolve();
      await Promise.resolve();
      expect(store.getState().predict.prompt).toBe("Ralkrok Stennos lives in the city of");
      expect(port.loads.length - loads).toBe(answer ? 1 : 0);
      if (answer) expect(port.loads.at(-1)?.source).toEqual(FOREIGN);
      else expect(store.getState().model.source).toEqual(BUNDLED);
      if (answer) store.getState().loadModel(BUNDLED); // back to the bundled model for the next round
    }
  });

  it("an address with credentials is refused without asking", () => {
    let asked = 0;
    const kept: string[] = [];
    openSession(store, session({ kind: "url", baseUrl: "https://u:pw@h.example/m/" }), () => {}, {
      pageOrigin: PAGE,
      confirmModel: async () => {
        asked++;
        return true;
      },
      onModelKept: (r) => kept.push(r),
    });
    expect(asked).toBe(0);
    expect(port.loads.map((l) => l.source)).toEqual([BUNDLED]);
    expect(kept[0]).toMatch(/^The model was not loaded: an address with a user name or password/);
    expect(kept[0]).not.toContain("pw");
  });
});
