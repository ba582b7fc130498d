/** Live sockets (CONTRACT §6): `{"type": "event", "event": {...}}` messages, a cursor (the
 * newest event id received) sent back as `?after=` on every reconnect, so nothing is missed and
 * nothing arrives twice; reconnection with capped, jittered backoff. `LiveSocket` is the logic
 * (tested with a fake WebSocket); `useLiveEvents` is the React hook the pages use. */

import { useEffect, useRef, useState } from "react";

/** One row of a run's event log, as GET /api/runs/{id}/events/ returns it. */
export type LiveEvent = {
  id: number;
  run: number;
  node: string;
  type: string;
  old_status: string;
  new_status: string;
  attempt: number | null;
  actor: string | null;
  created_at: string;
  data: Record<string, unknown>;
};

/** connecting: first attempt; live: open; reconnecting: lost, trying again; refused: the
 * server said no (4401 not logged in, 4403 not allowed, 4400 bad request) and is not retried. */
export type LiveStatus = "connecting" | "live" | "reconnecting" | "refused";

export const REFUSED = new Set([4400, 4401, 4403]);

export type LiveOptions<E extends { id: number }> = {
  /** e.g. "/ws/runs/5/"; `?after=<cursor>` is added to it. */
  path: string;
  /** Resume after this event id (the state the page already shows); null: from the start. */
  after: number | null;
  /** Events in id order, in batches (a backlog comes as one batch). */
  onEvents: (events: E[]) => void;
  onStatus?: (status: LiveStatus, closeCode?: number) => void;
  /** For the tests. */
  WebSocket?: typeof WebSocket;
  baseUrl?: string;
  random?: () => number;
};

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;

/** Milliseconds before a socket's next try after `failures` failed ones: doubling from 0.5 s
 * to at most 15 s, half of it random, so a server restart does not bring every browser back at
 * the same moment. */
export function reconnectDelay(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** failures);
  return ceiling / 2 + (random() * ceiling) / 2;
}

export function socketUrl(path: string, after: number | null, base: string): string {
  const url = new URL(path, base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (after !== null) url.searchParams.set("after", String(after));
  return url.toString();
}

export class LiveSocket<E extends { id: number }> {
  private socket: WebSocket | null = null;
  private cursor: number | null;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: E[] = [];
  private flushing: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly options: LiveOptions<E>) {
    this.cursor = options.after;
    this.connect();
  }

  /** The newest event id received (what the next connection resumes after). */
  get last(): number | null {
    return this.cursor;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.flushing !== null) clearTimeout(this.flushing);
    this.socket?.close(1000);
    this.socket = null;
  }

  private connect(): void {
    const { path, WebSocket: Impl = WebSocket, baseUrl = window.location.href } = this.options;
    const socket = new Impl(socketUrl(path, this.cursor, baseUrl));
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.failures = 0;
      this.options.onStatus?.("live");
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.socket !== socket) return;
      const data = JSON.parse(String(message.data));
      if (data.type !== "event") return;
      const event = data.event as E;
      // The server sends each id once per connection; the check guards a reconnect race.
      if (this.cursor !== null && event.id <= this.cursor) return;
      this.cursor = event.id;
      this.pending.push(event);
      // Messages that arrive together (a backlog, one commit's events) make one batch.
      this.flushing ??= setTimeout(() => this.flush(), 0);
    };
    socket.onclose = (close: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.flush();
      if (this.stopped) return;
      if (REFUSED.has(close.code)) {
        this.options.onStatus?.("refused", close.code);
        return;
      }
      this.options.onStatus?.("reconnecting", close.code);
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, this.delay());
    };
  }

  private delay(): number {
    return reconnectDelay(this.failures++, this.options.random);
  }

  private flush(): void {
    if (this.flushing !== null) clearTimeout(this.flushing);
    this.flushing = null;
    if (this.pending.length === 0 || this.stopped) return;
    const batch = this.pending;
    this.pending = [];
    this.options.onEvents(batch);
  }
}

/** Follow a live socket while the component is mounted and `path` is not null. `after` is read
 * when the socket is first opened (later changes do not reconnect); `onEvents` may change
 * freely. Returns the connection's status for an indicator. */
export function useLiveEvents<E extends { id: number } = LiveEvent>(
  path: string | null,
  after: number | null | undefined,
  onEvents: (events: E[]) => void,
): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const handler = useRef(onEvents);
  handler.current = onEvents;
  const cursor = useRef(after);
  cursor.current = after;
  const ready = path !== null && after !== undefined;

  useEffect(() => {
    if (!ready || path === null) return;
    setStatus("connecting");
    const live = new LiveSocket<E>({
      path,
      after: cursor.current ?? null,
      onEvents: (events) => handler.current(events),
      onStatus: setStatus,
    });
    return () => live.stop();
  }, [path, ready]);

  return status;
}
