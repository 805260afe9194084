"use client";
/**
 * Loads a GPT-2-family model by hub id ("gpt2", "org/name@revision") from the chosen endpoint.
 * The active endpoint's host is shown on the summary line. An endpoint set by the page address
 * (`?hub=`) or typed here is used for this visit; it is remembered for later visits only with
 * "Remember" (lib/load/hub-endpoint.ts).
 */
import { type FormEvent, useEffect, useState } from "react";
import { hubEndpointSetting, saveHubEndpoint } from "@/lib/load/hub-endpoint";
import { DEFAULT_HUB_ENDPOINT, normalizeEndpoint, parseHubRef } from "@/lib/load/hub-source";
import { useCauseway } from "./StoreProvider";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const hostOf = (endpoint: string) => {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
};

export function ModelSourceHub() {
  const loadModel = useCauseway((s) => s.loadModel);
  const [spec, setSpec] = useState("");
  const [endpoint, setEndpoint] = useState(DEFAULT_HUB_ENDPOINT);
  /** The endpoint in use (the field's value once it is valid) and the one remembered. */
  const [active, setActive] = useState(DEFAULT_HUB_ENDPOINT);
  const [remembered, setRemembered] = useState(DEFAULT_HUB_ENDPOINT);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const choice = hubEndpointSetting(window.location.search, storage());
    setEndpoint(choice.endpoint);
    setActive(choice.endpoint);
    setRemembered(choice.remembered);
  }, []);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    try {
      const ref = parseHubRef(spec);
      const ep = normalizeEndpoint(endpoint);
      setEndpoint(ep);
      setActive(ep);
      setError(null);
      loadModel({
        kind: "hub",
        repo: ref.repo,
        ...(ref.revision ? { revision: ref.revision } : {}),
        ...(ep !== DEFAULT_HUB_ENDPOINT ? { endpoint: ep } : {}),
      });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const remember = () => {
    try {
      const ep = saveHubEndpoint(endpoint, storage());
      setEndpoint(ep);
      setActive(ep);
      setRemembered(ep);
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <details className="picker__url" data-testid="hub-source">
      <summary>
        from the hub…{" "}
        <span
          className="panel__note"
          data-testid="hub-active"
          data-endpoint={active}
          title={`Hub models are fetched from ${active}`}
        >
          ({hostOf(active)}
          {active === remembered ? "" : ", this visit only"})
        </span>
      </summary>
      <form onSubmit={onSubmit}>
        <input
          type="text"
          placeholder="gpt2, distilgpt2, org/name@revision"
          value={spec}
          onChange={(e) => setSpec(e.target.value)}
          aria-label="Hugging Face repository id (GPT-2 family), optionally @revision"
          data-testid="hub-repo"
        />
        <button type="submit" data-testid="hub-load">
          Load
        </button>
      </form>
      <label style={{ display: "flex", gap: 6, marginTop: 6, alignItems: "center" }}>
        endpoint
        <input
          type="url"
          value={endpoint}
          onChange={(e) => setEndpoint(e.target.value)}
          aria-label="Hub endpoint (like HF_ENDPOINT)"
          data-testid="hub-endpoint"
        />
      </label>
      {endpoint.replace(/\/+$/, "") !== remembered ? (
        <div className="panel__note" style={{ marginTop: 6 }} data-testid="hub-remember-note">
          Used for this visit only; later visits use {hostOf(remembered)}.{" "}
          <button type="button" onClick={remember} data-testid="hub-remember">
            Remember this endpoint
          </button>
        </div>
      ) : null}
      {error ? (
        <div role="alert" className="load--error" data-testid="hub-error">
          {error}
        </div>
      ) : null}
    </details>
  );
}
