/** The version history of a saved workflow: who saved each version, when, and why. */
import { useEffect, useState } from "react";

import { api } from "../api";

export type VersionSummary = { number: number; author: string | null; note: string; created_at: string };

export function VersionsPanel({
  workflowId,
  latest,
  current,
  onOpen,
  onCompare,
  onClose,
}: {
  workflowId: number;
  /** The newest version number: the list is fetched again when it changes. */
  latest: number;
  /** The version on the canvas (read-only) or compared, if any. */
  current: number | null;
  onOpen: (number: number) => void;
  onCompare: (number: number) => void;
  onClose: () => void;
}) {
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<{ results: VersionSummary[] }>(`/api/workflows/${workflowId}/versions/?page_size=200`)
      .then((page) => setVersions(page.results))
      .catch((e: Error) => setError(e.message));
  }, [workflowId, latest]);

  return (
    <aside className="config-panel versions" aria-label="Version history">
      <h2>Version history</h2>
      <button type="button" onClick={onClose}>
        Close history
      </button>
      {error && <p role="alert">{error}</p>}
      {versions === null && !error && <p>Loading…</p>}
      <ol reversed>
        {versions?.map((v) => (
          <li key={v.number} aria-label={`Version ${v.number}`} className={v.number === current ? "current" : undefined}>
            <strong>Version {v.number}</strong>
            {v.number === latest && <span className="tag">latest</span>}
            <div className="meta">
              {v.author ?? "unknown"} · <time dateTime={v.created_at}>{new Date(v.created_at).toLocaleString()}</time>
            </div>
            {v.note && <p className="note">{v.note}</p>}
            <div className="actions">
              <button type="button" onClick={() => onOpen(v.number)}>
                Open version {v.number}
              </button>
              {v.number !== latest && (
                <button type="button" onClick={() => onCompare(v.number)}>
                  Compare version {v.number} with latest
                </button>
              )}
            </div>
          </li>
        ))}
      </ol>
    </aside>
  );
}
