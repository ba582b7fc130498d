/**
 * The inbox's news, shared by the navigation (the count of open tasks) and the Inbox page (the
 * list): one `/ws/inbox/` socket for the whole app. Each batch of task events, and each
 * (re)connection (news may have come while the socket was down), invalidates every cached
 * `approvals` query, so the count and the list are read again once, and only when they may
 * have changed. Reminders are kept as UI state for the page to show.
 */
import { useQuery } from "@tanstack/react-query";
import { useCallback, useEffect } from "react";
import { create } from "zustand";

import { api } from "./api";
import { type LiveEvent, type LiveStatus, useLiveEvents } from "./live";
import { keys, queryClient } from "./query";

type InboxState = {
  /** Changes whenever the inbox may have changed (for code that is not a query). */
  version: number;
  /** Tasks the user was reminded of since the page loaded (task id -> reminder number). */
  reminded: Record<number, number>;
  /** The inbox socket's state, for a live indicator. */
  status: LiveStatus;
};

export const useInbox = create<InboxState>()(() => ({ version: 0, reminded: {}, status: "connecting" }));

const COUNT_PARAMS = { status: "open", page_size: 1 } as const;

/** How many open tasks wait for the user (null until first read). */
export function useOpenTaskCount(): number | null {
  const { data } = useQuery({
    queryKey: keys.approvals(COUNT_PARAMS),
    queryFn: () => api<{ open: number }>("/api/approvals/?status=open&page_size=1"),
    staleTime: Number.POSITIVE_INFINITY, // the socket says when it changes
  });
  return data?.open ?? null;
}

/** Keeps the inbox live while mounted (once, in the app shell). */
export function useInboxFeed(username: string): void {
  const changed = useCallback(() => {
    useInbox.setState((s) => ({ version: s.version + 1 }));
    void queryClient.invalidateQueries({ queryKey: ["approvals"] });
  }, []);
  const onEvents = useCallback(
    (events: LiveEvent[]) => {
      const reminders = events.filter(
        (e) => e.type === "task.reminded" && (e.data.users as string[] | undefined)?.includes(username),
      );
      if (reminders.length) {
        useInbox.setState((s) => ({
          reminded: {
            ...s.reminded,
            ...Object.fromEntries(reminders.map((e) => [Number(e.data.task), Number(e.data.number)])),
          },
        }));
      }
      changed();
    },
    [username, changed],
  );
  const status = useLiveEvents("/ws/inbox/", null, onEvents);
  useEffect(() => {
    useInbox.setState({ status });
    if (status === "live") changed();
  }, [status, changed]);
}
