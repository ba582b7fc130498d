/** The public API from the browser: session cookie, CSRF header on writes, JSON both ways. */

import { noteServerTime } from "./clock";

export type ApiErrorItem = {
  node: string | null;
  edge: string | null;
  field: string | null;
  code: string;
  message: string;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: ApiErrorItem[],
    readonly body: Record<string, unknown>,
  ) {
    super(errors[0]?.message ?? `request failed (${status})`);
  }
}

function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** ``body`` is sent as JSON; ``text`` as is, with ``contentType`` (a YAML file, say); ``form``
 * as multipart (a file upload: the browser writes the boundary into the Content-Type). */
export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; text?: string; contentType?: string; form?: FormData } = {},
): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") {
    if (!options.form) headers["Content-Type"] = options.contentType ?? "application/json";
    headers["X-CSRFToken"] = csrfToken();
  }
  const sentAt = Date.now();
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body:
      options.form ?? options.text ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  // Every answer says the server's time: countdowns count on it, not on this browser's clock.
  noteServerTime(response.headers.get("X-Server-Time"), sentAt, Date.now());
  const text = await response.text();
  const data = text ? JSON.parse(text) : {};
  if (!response.ok) throw new ApiError(response.status, data.errors ?? [], data);
  return data as T;
}
