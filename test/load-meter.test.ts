/**
 * workers/load-meter.ts: bytes done / expected across files, speed and ETA, throttling, and the
 * hub endpoint setting (lib/load/hub-endpoint.ts).
 */
import { describe, expect, it } from "vitest";
import { fileSource } from "../lib/load/file-source";
import { HUB_ENDPOINT_KEY, hubEndpointSetting, saveHubEndpoint } from "../lib/load/hub-endpoint";
import { memorySource } from "../lib/load/memory-source";
import type { ProgressOf } from "../lib/protocol";
import { LoadMeter, meteredSource } from "../workers/load-meter";

type Progress = { type: "progress"; reqId: number } & ProgressOf<"load">;

function meter() {
  let t = 1000;
  const posts: Progress[] = [];
  let live = true;
  const m = new LoadMeter(
    7,
    (msg) => posts.push(msg as Progress),
    () => live,
    () => t,
  );
  return {
    m,
    posts,
    advance: (ms: number) => {
      t += ms;
    },
    stop: () => {
      live = false;
    },
  };
}

describe("LoadMeter", () => {
  it("adds finished files' bytes, expects the started files' sizes, and derives speed and ETA", () => {
    const { m, posts, advance } = meter();
    m.bytes("config.json", 500, 500);
    m.phase("config", 1, 1);
    expect(posts.at(-1)).toMatchObject({ phase: "config", bytes: 500, bytesTotal: 500 });
    expect(posts.at(-1)?.bytesPerSec).toBeUndefined(); // no time has passed

    advance(1000);
    m.bytes("a.safetensors", 1_000_000, 4_000_000);
    m.phase("weights", 0.25, 2); // 1/4 of the first of two files
    const p = posts.at(-1)!;
    expect(p).toMatchObject({ reqId: 7, phase: "weights", done: 0.25, total: 2 });
    expect(p.bytes).toBe(1_000_500);
    expect(p.bytesTotal).toBe(4_000_500);
    expect(p.bytesPerSec).toBeCloseTo(1_000_500, 6); // over the 1 s since the first byte
    // 1/8 of the weights in 1 s → 7 s left
    expect(p.etaMs).toBeCloseTo(7000, 6);

    advance(1000);
    // The first file broke off at 1 MB of 4 (its size stays expected); the second's size is
    // unknown, so what arrived of it counts as expected.
    m.bytes("b.safetensors", 10, undefined);
    m.phase("weights", 1.5, 2);
    expect(posts.at(-1)).toMatchObject({ bytes: 1_000_510, bytesTotal: 4_000_510 });
  });

  it("throttles within a phase, never the first or last message, and stops when not live", () => {
    const { m, posts, advance, stop } = meter();
    m.phase("weights", 0, 2);
    m.phase("weights", 0.1, 2);
    m.phase("weights", 0.2, 2);
    expect(posts.map((p) => p.done)).toEqual([0]);
    advance(150);
    m.phase("weights", 0.3, 2);
    m.phase("weights", 2, 2);
    expect(posts.map((p) => p.done)).toEqual([0, 0.3, 2]);
    m.note = "loading needs about 4 GiB";
    m.phase("upload", 0, 1);
    expect(posts.at(-1)?.note).toBe("loading needs about 4 GiB");
    stop();
    m.phase("upload", 1, 1);
    expect(posts).toHaveLength(4);
  });

  it("meteredSource reports each read's bytes and still passes them on", async () => {
    const { m, posts } = meter();
    const seen: number[] = [];
    const s = meteredSource(
      fileSource([new File(["abcdef"], "x.bin"), new File(["{}"], "c.json")]),
      m,
    );
    expect(await s.read("c.json")).toHaveLength(2);
    expect(await s.read("x.bin", (l) => seen.push(l))).toHaveLength(6);
    m.phase("weights", 1, 1);
    expect(posts.at(-1)).toMatchObject({ bytes: 8, bytesTotal: 8 });
    expect(seen).toEqual([6]);
    // A source that reports no bytes (memorySource) leaves the message without byte fields.
    const quiet = meter();
    await meteredSource(memorySource({ "x.bin": "abc" }), quiet.m).read("x.bin");
    quiet.m.phase("weights", 1, 1);
    expect(quiet.posts.at(-1)?.bytes).toBeUndefined();
  });
});

describe("hub endpoint setting", () => {
  function storage(init: Record<string, string> = {}) {
    const m = new Map(Object.entries(init));
    return {
      m,
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, v),
      removeItem: (k: string) => void m.delete(k),
    };
  }

  it("?hub= applies to this visit only: it is never remembered by itself (issue 10.3)", () => {
    const st = storage();
    const hub = "http://127.0.0.1:4180";
    expect(hubEndpointSetting("", st)).toEqual({
      endpoint: "https://huggingface.co",
      remembered: "https://huggingface.co",
      fromAddress: false,
    });
    expect(hubEndpointSetting(`?hub=${hub}/`, st)).toEqual({
      endpoint: hub,
      remembered: "https://huggingface.co",
      fromAddress: true,
    });
    // Before the fix the link's endpoint was written to storage and used by every later visit.
    expect(st.m.has(HUB_ENDPOINT_KEY)).toBe(false);
    expect(hubEndpointSetting("?x=1", st).endpoint).toBe("https://huggingface.co");
    // Remembering is the user's explicit act; then it is the endpoint of later visits.
    saveHubEndpoint(hub, st);
    expect(hubEndpointSetting("?x=1", st)).toEqual({
      endpoint: hub,
      remembered: hub,
      fromAddress: false,
    });
    expect(hubEndpointSetting("?hub=not a url", st).endpoint).toBe(hub);
    expect(hubEndpointSetting("?hub=https://u:p@h.example", st).endpoint).toBe(hub);
    expect(hubEndpointSetting("?hub=default", st)).toEqual({
      endpoint: "https://huggingface.co",
      remembered: hub,
      fromAddress: true,
    });
    expect(st.m.get(HUB_ENDPOINT_KEY)).toBe(hub);
  });

  it("saving the default endpoint clears the stored one", () => {
    const st = storage({ [HUB_ENDPOINT_KEY]: "http://h" });
    expect(saveHubEndpoint("https://huggingface.co/", st)).toBe("https://huggingface.co");
    expect(st.m.has(HUB_ENDPOINT_KEY)).toBe(false);
    expect(() => saveHubEndpoint("javascript:alert(1)", st)).toThrow(/not an http\(s\) URL/);
  });
});
