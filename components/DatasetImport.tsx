"use client";
/**
 * Bring a data file for any model: pick it, drop it, or fetch it from a URL. The text is parsed
 * by the caller (lib/load/dataset-import.ts: CounterFact, zsRE, known_1000, prompt sets, plain
 * text corpora) and its error is shown here as it is, naming the file and the case or line.
 *
 * A URL is untrusted: it is fetched without asking only from the app's own origin; another origin
 * is shown and fetched only after the user confirms (lib/load/source-trust.ts, the gate links use
 * for models); an address with credentials or another scheme is refused. Sizes are bounded
 * (MAX_DATASET_BYTES) before the text is read, and a slow or endless server is stopped.
 */
import { useState } from "react";
import { errorText } from "@/lib/errors";
import { MAX_DATASET_BYTES } from "@/lib/load/limits";
import { type ForeignSource, foreignSource } from "@/lib/load/source-trust";
import { fetchCapped } from "@/lib/load/url-source";
import s from "./DatasetImport.module.css";

export interface DatasetImportProps<T> {
  /** data-testid prefix and id. */
  id: string;
  label: string;
  /** What the picker offers (".json,.jsonl"). */
  accept: string;
  /** Parses the file's text; throws an error naming what is wrong. */
  parse(name: string, text: string): T;
  onLoaded(name: string, x: T | null): void;
  /** One line for what is loaded ("cases.json: 12 CounterFact cases"), null: nothing. */
  loaded: string | null;
}

const MiB = 1024 * 1024;

export function DatasetImport<T>(p: DatasetImportProps<T>) {
  const [error, setError] = useState<string | null>(null);
  const [url, setUrl] = useState("");
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<{ url: string; foreign: ForeignSource } | null>(null);
  const [over, setOver] = useState(false);

  const take = (name: string, text: string) => {
    try {
      const x = p.parse(name, text);
      setError(null);
      p.onLoaded(name, x);
    } catch (e) {
      setError(errorText(e));
    }
  };

  const readFile = async (f: File) => {
    setError(null);
    if (f.size > MAX_DATASET_BYTES) {
      setError(`${f.name}: larger than ${MAX_DATASET_BYTES / MiB} MiB`);
      return;
    }
    take(f.name, await f.text());
  };

  const fetchUrl = async (address: string) => {
    setConfirm(null);
    setBusy(true);
    try {
      const r = await fetchCapped(address, { maxBytes: MAX_DATASET_BYTES });
      if (!r.ok) throw new Error(`${address}: HTTP ${r.status}`);
      const name = new URL(address).pathname.split("/").pop() || address;
      take(decodeURIComponent(name), await r.text());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const askUrl = () => {
    setError(null);
    let abs: string;
    try {
      abs = new URL(url.trim(), window.location.href).href;
      const foreign = foreignSource({ kind: "url", baseUrl: abs }, window.location.origin);
      if (foreign) setConfirm({ url: abs, foreign });
      else void fetchUrl(abs);
    } catch (e) {
      setError(errorText(e));
    }
  };

  return (
    <fieldset
      aria-label={`Drop zone: ${p.label}`}
      className={`${s.box}${over ? ` ${s.over}` : ""}`}
      data-testid={`${p.id}-import`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const f = e.dataTransfer.files[0];
        if (f) void readFile(f);
      }}
    >
      <span className="field__label">{p.label}</span>
      <div className={s.row}>
        <label className="btn btn--ghost btn--small">
          Choose file…
          <input
            type="file"
            accept={p.accept}
            hidden
            data-testid={`${p.id}-file`}
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void readFile(f);
              e.target.value = "";
            }}
          />
        </label>
        <span className="field__help">or drop it here, or</span>
        <input
          className={`field__input ${s.url}`}
          placeholder="https://… (a URL)"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
          spellCheck={false}
          data-testid={`${p.id}-url`}
        />
        <button
          type="button"
          className="btn btn--ghost btn--small"
          disabled={busy || url.trim() === ""}
          onClick={askUrl}
          data-testid={`${p.id}-fetch`}
        >
          {busy ? "Fetching…" : "Fetch"}
        </button>
        {p.loaded ? (
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() => p.onLoaded("", null)}
          >
            Forget
          </button>
        ) : null}
      </div>
      {confirm ? (
        <div className={s.confirm} role="alertdialog" data-testid={`${p.id}-confirm`}>
          This fetches <code>{confirm.foreign.repo}</code> from{" "}
          <strong>{confirm.foreign.origin}</strong>, another site than this app.{" "}
          <button
            type="button"
            className="btn btn--small"
            onClick={() => void fetchUrl(confirm.url)}
          >
            Fetch it
          </button>{" "}
          <button
            type="button"
            className="btn btn--ghost btn--small"
            onClick={() => setConfirm(null)}
          >
            Cancel
          </button>
        </div>
      ) : null}
      {p.loaded ? (
        <small className="field__help" data-testid={`${p.id}-loaded`}>
          {p.loaded}
        </small>
      ) : null}
      {error ? (
        <p className="form-error" role="alert" data-testid={`${p.id}-error`}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}
