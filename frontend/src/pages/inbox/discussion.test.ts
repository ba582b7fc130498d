import { describe, expect, it } from "vitest";

import { type TaskComment, formatBytes, mentionCandidates, mentionedNames, segments, threads } from "./discussion";

function comment(id: number, parent: number | null = null, body = `comment ${id}`): TaskComment {
  return { id, author: "bob", parent, body, mentions: [], created_at: "2026-12-06T12:00:00Z" };
}

describe("mentionedNames", () => {
  it("reads @usernames in order, once each, as the server does", () => {
    expect(mentionedNames("hi @bob. and @dave-, not a@b.com; @bob again @x.y")).toEqual(["bob", "dave", "x.y"]);
  });

  it("finds none in an address or a lone @", () => {
    expect(mentionedNames("mail bob@example.com @ noon")).toEqual([]);
  });
});

describe("segments", () => {
  it("draws apart only the mentions that reached someone", () => {
    expect(segments("@dave and @charlie, see @dave.", ["dave"])).toEqual([
      { text: "@dave", mention: true },
      { text: " and @charlie, see ", mention: false },
      { text: "@dave", mention: true },
      { text: ".", mention: false },
    ]);
  });

  it("keeps a body without mentions whole", () => {
    expect(segments("plain", [])).toEqual([{ text: "plain", mention: false }]);
  });
});

describe("threads", () => {
  it("puts replies under their first comment, oldest first", () => {
    const shown = threads([comment(3, 1), comment(1), comment(2), comment(4, 2)]);
    expect(shown.map((t) => [t.comment.id, t.replies.map((r) => r.id)])).toEqual([
      [1, [3]],
      [2, [4]],
    ]);
  });

  it("shows a reply whose thread is missing on its own", () => {
    expect(threads([comment(5, 99)]).map((t) => t.comment.id)).toEqual([5]);
  });
});

describe("mentionCandidates", () => {
  it("offers known and found names, sorted, without the user", () => {
    expect(mentionCandidates(["dave", null, "bob", "alice"], ["erin", "dave"], "bob")).toEqual([
      "alice",
      "dave",
      "erin",
    ]);
  });
});

describe("formatBytes", () => {
  it("says sizes as people read them", () => {
    expect([formatBytes(512), formatBytes(1536), formatBytes(10 * 1024 * 1024)]).toEqual(["512 B", "1.5 KiB", "10 MiB"]);
  });
});
