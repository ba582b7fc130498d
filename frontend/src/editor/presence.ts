/**
 * The designer's socket on a workflow (`/ws/workflows/{id}/`, docs/api/websockets.md): who else
 * has it open, and the news of a version someone saved meanwhile. `DesignerSocket` is the
 * connection (pings every PING_MS so the server keeps counting us, reconnects with backoff;
 * tested with a fake WebSocket); `usePresence` follows it while the designer shows a saved
 * workflow: the list goes to the query cache (keys.presence), a newer version by someone else
 * to the store (`newer`), which the toolbar's avatars and the notice over the canvas read.
 */
import { skipToken, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { api } from "../api";
import { keys } from "../query";
import { REFUSED, reconnectDelay, socketUrl } from "../live";
import { useEditor } from "./store";

export type Person = { id: number; username: string; display_name: string };
export type PresentUser = Person & { since: string };
export type SavedVersion = {
  workflow: number;
  number: number;
  author: Person | null;
  note: string;
  saved_at: string;
};

export type DesignerMessage =
  | { type: "presence"; users: PresentUser[] }
  | { type: "version_saved"; version: SavedVersion };

/** The server drops a socket not heard of for 60 s: three pings' worth. */
export const PING_MS = 20_000;

/** Everyone there but me (my other tabs are me too). */
export function othersPresent(users: PresentUser[], me: number | null | undefined): PresentUser[] {
  return users.filter((u) => u.id !== me);
}

/** "AL" for Alice Liddell, "BO" for bob. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  if (words.length === 1) return words[0].slice(0, 2).toUpperCase();
  return (words[0][0] + words[words.length - 1][0]).toUpperCase();
}

/** Whether a saved version is news to an editor whose draft is based on `base`: newer than
 * that, and not the editor's own save (which the save's answer already brought, maybe after
 * this message). Keeps the newest of several. */
export function newerVersion(
  version: SavedVersion,
  { me, base, shown }: { me: number | null | undefined; base: number; shown: SavedVersion | null },
): SavedVersion | null {
  if (version.author !== null && version.author.id === me) return shown;
  if (version.number <= base) return shown;
  return shown !== null && shown.number >= version.number ? shown : version;
}

/** The notice's words: "Ana saved version 5 — your draft is based on version 4". */
export function newerText(version: SavedVersion, base: number): string {
  const who = version.author?.display_name ?? "Someone";
  return `${who} saved version ${version.number} — your draft is based on version ${base}`;
}

export type DesignerSocketOptions = {
  workflowId: number;
  onMessage: (message: DesignerMessage) => void;
  /** False when the socket is lost (the list is then unknown), true when it is back. */
  onLive?: (live: boolean) => void;
  WebSocket?: typeof WebSocket;
  baseUrl?: string;
  random?: () => number;
};

export class DesignerSocket {
  private socket: WebSocket | null = null;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pinger: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(private readonly options: DesignerSocketOptions) {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.stopPinging();
    this.socket?.close(1000);
    this.socket = null;
  }

  private stopPinging(): void {
    if (this.pinger !== null) clearInterval(this.pinger);
    this.pinger = null;
  }

  private connect(): void {
    const { workflowId, WebSocket: Impl = WebSocket, baseUrl = window.location.href } = this.options;
    const socket = new Impl(socketUrl(`/ws/workflows/${workflowId}/`, null, baseUrl));
    this.socket = socket;
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.failures = 0;
      this.options.onLive?.(true);
      this.stopPinging();
      this.pinger = setInterval(() => socket.send(JSON.stringify({ type: "ping" })), PING_MS);
    };
    socket.onmessage = (message: MessageEvent) => {
      if (this.socket !== socket) return;
      const data = JSON.parse(String(message.data));
      if (data.type === "presence" || data.type === "version_saved") this.options.onMessage(data);
    };
    socket.onclose = (close: CloseEvent) => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.stopPinging();
      if (this.stopped) return;
      this.options.onLive?.(false);
      if (REFUSED.has(close.code)) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        if (!this.stopped) this.connect();
      }, this.delay());
    };
  }

  private delay(): number {
    return reconnectDelay(this.failures++, this.options.random);
  }
}

type Me = { id: number; username: string };

export function useMe() {
  return useQuery({ queryKey: keys.me(), queryFn: () => api<Me>("/api/me/"), staleTime: 5 * 60_000 });
}

/** Who has the workflow open, as the designer's socket last said (empty while it is not live). */
export function usePresent(workflowId: number | null): PresentUser[] {
  const { data } = useQuery<PresentUser[]>({
    queryKey: keys.presence(workflowId ?? 0),
    queryFn: skipToken, // only the socket fills it
  });
  return data ?? [];
}

/** Follow the designer's socket while `workflowId` is a saved workflow. */
export function usePresence(workflowId: number | null): void {
  const queryClient = useQueryClient();
  const me = useMe().data?.id;

  useEffect(() => {
    if (workflowId === null || me === undefined) return;
    const key = keys.presence(workflowId);
    const live = new DesignerSocket({
      workflowId,
      onLive: (up) => {
        if (!up) queryClient.setQueryData(key, []);
      },
      onMessage: (message) => {
        if (message.type === "presence") {
          queryClient.setQueryData(key, message.users);
          return;
        }
        // The history and the lists show the new version, whoever saved it.
        void queryClient.invalidateQueries({ queryKey: keys.versions(workflowId) });
        void queryClient.invalidateQueries({ queryKey: ["workflows"] });
        const state = useEditor.getState();
        if (state.meta.id !== workflowId) return;
        const newer = newerVersion(message.version, { me, base: state.meta.version, shown: state.newer });
        if (newer !== state.newer) state.setNewer(newer);
      },
    });
    return () => {
      live.stop();
      queryClient.removeQueries({ queryKey: key });
    };
  }, [workflowId, me, queryClient]);
}
