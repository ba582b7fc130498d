/**
 * The inbox's news, shared by the navigation (the count of open tasks) and the Inbox page (the
 * list): one `/ws/inbox/` socket for the whole app. Each batch of task events, and each
 * (re)connection (news may have come while the socket was down), bumps `version` and reads the
 * open count again; the page reads its list again when `version` changes.
 */
import { useCallback, useEffect } from "react";
import { create } from "zustand";

import { api } from "./api";
import { type LiveEvent, useLiveEvents } from "./live";

type InboxState = {
  /** Open tasks waiting for the user; null until first read. */
  open: number | null;
  /** Changes whenever the inbox may have changed. */
  version: number;
  /** Tasks the user was reminded of since the page loaded (task id -> reminder number). */
  reminded: Record<number, number>;
};

export const useInbox = create<InboxState>()(() => ({ open: null, version: 0, reminded: {} }));

async function readCount(): Promise<void> {
  try {
    const page = await api<{ open: number }>("/api/approvals/?status=open&page_size=1");
    useInbox.setState({ open: page.open });
  } catch {
    // The count is a convenience; the Inbox page shows errors.
  }
}

/** Keeps the inbox state live while mounted (once, in the app shell). */
export function useInboxFeed(username: string): void {
  const changed = useCallback(() => {
    useInbox.setState((s) => ({ version: s.version + 1 }));
    void readCount();
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
    if (status === "live") changed();
  }, [status, changed]);
}
