/**
 * Below the config form of a trigger.webhook step: the workflow's webhook URL (once saved),
 * a copy button, rotation behind a confirmation, and a curl example (with the signing recipe
 * when requests must be signed). The URL is a secret: only editors get it from the API.
 */
import { useCallback, useEffect, useState } from "react";

import { ApiError, api } from "../../api";
import { type WebhookInfo, curlExample } from "./curl";

type Loaded =
  | { kind: "loading" }
  | { kind: "ready"; info: WebhookInfo }
  | { kind: "none" } // saved without this step yet
  | { kind: "error"; message: string };

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // not a secure context, or no permission: the text stays selectable
  }
}

export function WebhookPanel({ workflowId, version }: { workflowId: number | null; version: number }) {
  const [loaded, setLoaded] = useState<Loaded>({ kind: "loading" });
  const [confirming, setConfirming] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const path = workflowId === null ? null : `/api/workflows/${workflowId}/webhook/`;

  const show = useCallback((e: unknown) => {
    if (e instanceof ApiError && e.status === 404 && e.errors[0]?.code === "no_webhook") setLoaded({ kind: "none" });
    else setLoaded({ kind: "error", message: e instanceof Error ? e.message : String(e) });
  }, []);

  useEffect(() => {
    if (path === null) return;
    let cancelled = false;
    setLoaded({ kind: "loading" });
    // Refetched after each save (version): the first save with this step issues the URL.
    api<WebhookInfo>(path).then(
      (info) => !cancelled && setLoaded({ kind: "ready", info }),
      (e) => !cancelled && show(e),
    );
    return () => {
      cancelled = true;
    };
  }, [path, version, show]);

  const rotate = async () => {
    if (path === null) return;
    setConfirming(false);
    try {
      const info = await api<WebhookInfo>(`${path}rotate/`, { method: "POST" });
      setLoaded({ kind: "ready", info });
      setNotice("New URL issued; the old one no longer works.");
    } catch (e) {
      show(e);
    }
  };

  if (path === null || loaded.kind === "none") {
    return (
      <section className="webhook-panel" aria-label="Webhook URL">
        <h3>Webhook URL</h3>
        <p className="help">Save the workflow to get the URL that starts it.</p>
      </section>
    );
  }
  if (loaded.kind === "loading") {
    return (
      <section className="webhook-panel" aria-label="Webhook URL">
        <h3>Webhook URL</h3>
        <p className="help">Loading…</p>
      </section>
    );
  }
  if (loaded.kind === "error") {
    return (
      <section className="webhook-panel" aria-label="Webhook URL">
        <h3>Webhook URL</h3>
        <p role="alert">{loaded.message}</p>
      </section>
    );
  }
  const { info } = loaded;
  return (
    <section className="webhook-panel" aria-label="Webhook URL">
      <h3>Webhook URL</h3>
      <div className="webhook-url">
        <input readOnly aria-label="Webhook URL" value={info.url} onFocus={(e) => e.target.select()} />
        <button
          type="button"
          onClick={async () => setNotice((await copyText(info.url)) ? "URL copied." : "Copy it from the field.")}
        >
          Copy
        </button>
      </div>
      {!info.active && (
        <p className="help">
          Inactive: the newest version has no webhook trigger, or the workflow is archived. Requests get 404.
        </p>
      )}
      <p className="help">
        {info.signing
          ? `Requests must be signed: ${info.signature_header}: sha256=HMAC-SHA256(secret, "<timestamp>.<body>"), ` +
            `with the Unix time in ${info.timestamp_header}` +
            (info.tolerance_s ? `, within ${info.tolerance_s} s of the server's clock.` : ".")
          : "Anyone with this URL can start the workflow: keep it secret, or require a signature."}
        {` Bodies up to ${info.max_body_bytes} bytes; an Idempotency-Key header makes retries start one run.`}
      </p>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {confirming ? (
        <div role="alertdialog" aria-label="Rotate the webhook URL" className="webhook-confirm">
          <p>The current URL stops working at once; senders need the new one.</p>
          <button type="button" onClick={() => void rotate()}>
            Rotate
          </button>
          <button type="button" onClick={() => setConfirming(false)} autoFocus>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" onClick={() => setConfirming(true)}>
          Rotate URL…
        </button>
      )}
      <details>
        <summary>Try it with curl</summary>
        <pre aria-label="curl example">{curlExample(info)}</pre>
      </details>
    </section>
  );
}
