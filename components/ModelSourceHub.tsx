"use client";
/** Loads a GPT-2-family model by hub id ("gpt2", "org/name@revision") from the chosen endpoint. */
import { type FormEvent, useEffect, useState } from "react";
import { hubEndpointSetting, saveHubEndpoint } from "@/lib/load/hub-endpoint";
import { DEFAULT_HUB_ENDPOINT, parseHubRef } from "@/lib/load/hub-source";
import { useCauseway } from "./StoreProvider";

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function ModelSourceHub() {
  const loadModel = useCauseway((s) => s.loadModel);
  const [spec, setSpec] = useState("");
  const [endpoint, setEndpoint] = useState(DEFAULT_HUB_ENDPOINT);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => setEndpoint(hubEndpointSetting(window.location.search, storage())), []);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    try {
      const ref = parseHubRef(spec);
      const ep = saveHubEndpoint(endpoint, storage());
      setEndpoint(ep);
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

  return (
    <details className="picker__url" data-testid="hub-source">
      <summary>from the hub…</summary>
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
      {error ? (
        <div role="alert" className="load--error" data-testid="hub-error">
          {error}
        </div>
      ) : null}
    </details>
  );
}
