"use client";
/**
 * Sessions as links and files: the Share button (the session on screen → "#v1.…", copied, with
 * its length), session files (export; import by the file picker or by dropping one on the page),
 * and on startup the link in the address bar opened: settings applied, the trace recomputed and
 * compared with the numbers the link carried, any cell beyond the tolerance flagged. A bad link
 * shows why and changes nothing (the default session stays). Nothing from a link is rendered as
 * HTML.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { COMPARE_TOLERANCE } from "@/lib/share/compare";
import { ShareError } from "@/lib/share/errors";
import { readSessionFile, sessionFile } from "@/lib/share/file";
import { decodeSession, encodeSession, isSessionFragment } from "@/lib/share/link";
import { type OpenPhase, openSession } from "@/lib/share/open";
import type { SharedSession } from "@/lib/share/session";
import { sessionOf } from "@/lib/share/store";
import { downloadText } from "./download";
import { useModelGate } from "./ModelSourceConfirm";
import { SessionLinkCarried } from "./SessionLinkCarried";
import { useCausewayStore } from "./StoreProvider";
import { markOf, type SharedMark, useStaleLink } from "./useStaleLink";

interface Opened {
  session: SharedSession;
  from: "link" | "file";
  phase: OpenPhase;
}

const messageOf = (e: unknown) =>
  e instanceof ShareError
    ? e.message
    : `Something went wrong: ${e instanceof Error ? e.message : String(e)}`;

export function SessionLink() {
  const store = useCausewayStore();
  const [opened, setOpened] = useState<Opened | null>(null);
  const [error, setError] = useState<{ code: string; message: string } | null>(null);
  const [link, setLink] = useState<{ url: string; note: string; mark: SharedMark } | null>(null);
  const [stale, setStale] = useState(false);
  const stop = useRef<(() => void) | null>(null);

  // the session changed since the link was made: the link (and "copied") no longer hold
  const onStale = useCallback(() => {
    setLink((l) => {
      if (l && window.location.hash !== "" && l.url.endsWith(window.location.hash)) {
        window.history.replaceState(null, "", window.location.pathname + window.location.search);
      }
      return null;
    });
    setStale(true);
  }, []);
  useStaleLink(store, link?.mark ?? null, onStale);
  // a model from another origin waits for the user's yes (components/ModelSourceConfirm.tsx)
  const modelGate = useModelGate();
  const gate = modelGate.gate;

  const open = useCallback(
    (session: SharedSession, from: Opened["from"]) => {
      stop.current?.();
      setError(null);
      setOpened({ session, from, phase: { phase: "waiting" } });
      stop.current = openSession(
        store,
        session,
        (phase) => setOpened((o) => (o && o.session === session ? { ...o, phase } : o)),
        gate(from),
      );
    },
    [store, gate],
  );

  const fail = useCallback((e: unknown) => {
    stop.current?.();
    setOpened(null);
    setError({ code: e instanceof ShareError ? e.code : "error", message: messageOf(e) });
    // nothing of a bad link or file is applied: the session on screen (on startup, the
    // page's default session) stays as it was
  }, []);

  // the link in the address bar: on startup, and when another link is pasted into this tab
  // (Share itself uses history.replaceState, which fires no hashchange)
  useEffect(() => {
    let live = true;
    const read = () => {
      const hash = window.location.hash;
      if (!isSessionFragment(hash)) return;
      decodeSession(hash).then(
        (s) => live && open(s, "link"),
        (e) => live && fail(e),
      );
    };
    read();
    window.addEventListener("hashchange", read);
    return () => {
      live = false;
      window.removeEventListener("hashchange", read);
      stop.current?.();
    };
  }, [open, fail]);

  const openFile = useCallback(
    async (file: File) => {
      try {
        open(readSessionFile(await file.text()), "file");
      } catch (e) {
        fail(e);
      }
    },
    [open, fail],
  );

  // a session file dropped anywhere on the page (drop zones of their own handle theirs first)
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
    };
    const drop = (e: DragEvent) => {
      if (e.defaultPrevented) return;
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      if (file.name.toLowerCase().endsWith(".json")) void openFile(file);
      else fail(new ShareError("bad_link", `${file.name} is not a session file (.json).`));
    };
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [openFile, fail]);

  const share = async () => {
    try {
      const state = store.getState();
      const { hash, dropped } = await encodeSession(sessionOf(state));
      const mark = markOf(state, !dropped.includes("trace"));
      const url = `${window.location.origin}${window.location.pathname}${hash}`;
      window.history.replaceState(null, "", hash);
      let copied = true;
      await navigator.clipboard?.writeText(url).catch(() => {
        copied = false;
      });
      const notes = [
        `${url.length.toLocaleString("en-US")} characters`,
        copied ? "copied" : "select and copy it",
        ...(dropped.includes("trace") ? ["without the heatmaps (too long)"] : []),
        ...(dropped.includes("learned") ? ["edits as recipes (relearned on open)"] : []),
      ];
      setLink({ url, note: notes.join(" · "), mark });
      setStale(false);
      setError(null);
    } catch (e) {
      setLink(null);
      setStale(false);
      setError({ code: e instanceof ShareError ? e.code : "error", message: messageOf(e) });
    }
  };

  const exportFile = () => {
    try {
      downloadText(
        sessionFile(sessionOf(store.getState())),
        "causeway-session.json",
        "application/json",
      );
    } catch (e) {
      setError({ code: e instanceof ShareError ? e.code : "error", message: messageOf(e) });
    }
  };

  return (
    <section className="panel share" aria-label="Share" data-testid="share-panel">
      <div
        className="share__bar"
        style={{ display: "flex", gap: 8, alignItems: "center", flexWrap: "wrap" }}
      >
        <button
          type="button"
          className="btn btn--primary"
          onClick={share}
          data-testid="share-button"
        >
          Share link
        </button>
        <button
          type="button"
          className="btn btn--ghost"
          onClick={exportFile}
          data-testid="session-export"
        >
          Export session
        </button>
        <label className="btn btn--ghost" data-testid="session-import">
          Open session file…
          <input
            type="file"
            accept=".json,application/json"
            hidden
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void openFile(f);
              e.target.value = "";
            }}
            data-testid="session-import-input"
          />
        </label>
        {link ? (
          <>
            <input
              readOnly
              value={link.url}
              onFocus={(e) => e.target.select()}
              style={{ flex: "1 1 240px", minWidth: 0 }}
              aria-label="Session link"
              data-testid="share-link"
              data-length={link.url.length}
            />
            <span className="panel__note" data-testid="share-link-note">
              {link.note}
            </span>
          </>
        ) : stale ? (
          <span className="panel__note" data-testid="share-link-stale">
            The session changed since the last link was made; Share again for a link to what is on
            screen.
          </span>
        ) : null}
      </div>
      {error ? (
        <p className="form-error" role="alert" data-testid="share-error" data-code={error.code}>
          {error.message}
        </p>
      ) : null}
      {modelGate.element}
      {opened ? <OpenedStatus opened={opened} /> : null}
    </section>
  );
}

function OpenedStatus({ opened }: { opened: Opened }) {
  const { phase, session, from } = opened;
  const what = from === "link" ? "the link" : "the file";
  let status: string;
  let text: string;
  if (phase.phase === "waiting") {
    status = "waiting";
    text = `Opening the session from ${what}: waiting for the model and the prompt's tokens…`;
  } else if (phase.phase === "recomputing") {
    status = "recomputing";
    text = `Recomputing the trace to compare with the numbers ${what} carried…`;
  } else if (phase.phase === "applied") {
    status = "applied";
    text = `Session from ${what} opened (it carried no heatmaps to compare).`;
  } else if (phase.phase === "failed") {
    status = "failed";
    text = `The session from ${what} was opened, but recomputing failed: ${phase.message}`;
  } else {
    const c = phase.comparison;
    const ok = c.flagged.length === 0 && c.missing.length === 0;
    status = ok ? "match" : "differs";
    text = ok
      ? `Recomputed = carried: all ${c.cells} cells within ${COMPARE_TOLERANCE} (max |Δ| = ${c.maxAbsDiff.toExponential(1)}).`
      : `Recomputed ≠ carried: ${c.flagged.length} of ${c.cells} cells differ by more than ${COMPARE_TOLERANCE} (max |Δ| = ${c.maxAbsDiff.toExponential(1)})${c.missing.length > 0 ? `; not recomputed: ${c.missing.join(", ")}` : ""}.`;
  }
  return (
    <div data-testid="share-opened">
      <p
        className={status === "differs" || status === "failed" ? "form-error" : "panel__note"}
        role={status === "differs" ? "alert" : "status"}
        data-testid="share-compare"
        data-status={status}
      >
        {text}
      </p>
      {session.trace ? (
        <SessionLinkCarried
          trace={session.trace}
          comparison={phase.phase === "compared" ? phase.comparison : null}
        />
      ) : null}
    </div>
  );
}
