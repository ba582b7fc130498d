/**
 * A task's discussion, the pure parts: comments and attachments as the approvals API returns
 * them (GET /api/approvals/<id>/comments/ and /attachments/), threads, @mentions, sizes. Kept
 * apart from React so that vitest checks them; the server applies the same mention rule
 * (engine/discussion.py) and decides who is reached.
 */

export type TaskComment = {
  id: number;
  author: string | null;
  /** The thread's first comment; null for a comment that starts a thread. */
  parent: number | null;
  body: string;
  /** Who the @names reached (those who may see the task); other @words are plain text. */
  mentions: string[];
  created_at: string;
};

export type TaskComments = { comments: TaskComment[]; can_comment: boolean };

export type TaskAttachment = {
  id: number;
  name: string;
  content_type: string;
  size: number;
  sha256: string;
  uploader: string | null;
  created_at: string;
  url: string;
};

export type TaskAttachments = {
  attachments: TaskAttachment[];
  can_attach: boolean;
  max_bytes: number;
  allowed_types: string[];
};

export type Thread = { comment: TaskComment; replies: TaskComment[] };

/** Comments as threads, one level deep, oldest first: each comment that starts a thread with
 * its replies. A reply whose first comment is missing starts a thread of its own. */
export function threads(comments: TaskComment[]): Thread[] {
  const ordered = [...comments].sort((a, b) => a.id - b.id);
  const byId = new Map<number, Thread>();
  const out: Thread[] = [];
  for (const comment of ordered) {
    const root = comment.parent === null ? undefined : byId.get(comment.parent);
    if (root) {
      root.replies.push(comment);
    } else {
      const thread = { comment, replies: [] };
      byId.set(comment.id, thread);
      out.push(thread);
    }
  }
  return out;
}

// Django's username characters, not inside a word or an address (bob@example.com).
const MENTION = /(?<![\w.@+-])@([\w.@+-]{1,150})/g;

/** The usernames `@`-named in a body, in order, once each ("thanks @bob." names bob). */
export function mentionedNames(body: string): string[] {
  const names: string[] = [];
  for (const match of body.matchAll(MENTION)) {
    const name = match[1].replace(/[.-]+$/, "");
    if (name && !names.includes(name)) names.push(name);
  }
  return names;
}

export type Segment = { text: string; mention: boolean };

/** A body cut into text and the mentions that reached someone (to draw those apart). */
export function segments(body: string, reached: string[]): Segment[] {
  const out: Segment[] = [];
  let at = 0;
  for (const match of body.matchAll(MENTION)) {
    const name = match[1].replace(/[.-]+$/, "");
    if (!reached.includes(name)) continue;
    const start = match.index ?? 0;
    if (start > at) out.push({ text: body.slice(at, start), mention: false });
    out.push({ text: `@${name}`, mention: true });
    at = start + 1 + name.length;
  }
  if (at < body.length) out.push({ text: body.slice(at), mention: false });
  return out;
}

/** People to suggest after "@": the names the task and its discussion show, and those a
 * search found, without the user themself. */
export function mentionCandidates(
  known: (string | null | undefined)[],
  found: string[],
  me: string | undefined,
): string[] {
  const names = new Set([...known, ...found].filter((n): n is string => Boolean(n)));
  if (me) names.delete(me);
  return [...names].sort((a, b) => a.localeCompare(b));
}

/** Bytes as people read them: "512 B", "1.5 KiB", "10 MiB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${+value.toFixed(1)} ${units[unit]}`;
}
