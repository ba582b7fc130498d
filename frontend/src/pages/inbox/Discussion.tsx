/**
 * A task's discussion: the comments in threads (replies indented under the comment that
 * started them), a comment box with @mention suggestions, and the attached files with an
 * upload button. Server state in TanStack Query under `["approvals", ...]`, so the inbox socket
 * (a `task.commented` or `task.attachment_added` event) reads it again when someone else
 * writes. `readOnly` shows it without any control (the run view's inspector).
 */
import {
  Alert,
  Anchor,
  Avatar,
  Box,
  Button,
  FileButton,
  Group,
  Mentions,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { IconAlertTriangle, IconArrowBackUp, IconMessage, IconPaperclip, IconUpload } from "@tabler/icons-react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";

import { ApiError, api } from "../../api";
import { keys, queryString } from "../../query";
import { RelativeTime } from "../../ui/RelativeTime";
import {
  type TaskAttachment,
  type TaskAttachments,
  type TaskComment,
  type TaskComments,
  formatBytes,
  mentionCandidates,
  segments,
  threads,
} from "./discussion";
import type { Task } from "./model";

type Me = { username: string; is_staff: boolean };

const commentsKey = (taskId: number) => keys.approvals({ task: taskId, part: "comments" });
const attachmentsKey = (taskId: number) => keys.approvals({ task: taskId, part: "attachments" });

function errorMessage(error: unknown): string | null {
  if (!error) return null;
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

function Body({ comment }: { comment: TaskComment }) {
  return (
    <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
      {segments(comment.body, comment.mentions).map((part, index) =>
        part.mention ? (
          <Text key={index} span fw={600} c="blue">
            {part.text}
          </Text>
        ) : (
          part.text
        ),
      )}
    </Text>
  );
}

function CommentView({ comment, onReply }: { comment: TaskComment; onReply?: () => void }) {
  const author = comment.author ?? "a former user";
  return (
    <Group gap="sm" wrap="nowrap" align="flex-start" role="article" aria-label={`Message from ${author}`}>
      <Avatar name={author} color="initials" size="sm" alt="" />
      <Stack gap={2} style={{ minWidth: 0, flex: 1 }}>
        <Group gap="xs">
          <Text size="sm" fw={600}>
            {author}
          </Text>
          <RelativeTime value={comment.created_at} size="xs" c="dimmed" />
        </Group>
        <Body comment={comment} />
        {onReply && (
          <Button
            variant="subtle"
            color="gray"
            size="compact-xs"
            leftSection={<IconArrowBackUp size={14} />}
            onClick={onReply}
            style={{ alignSelf: "flex-start" }}
            aria-label={`Reply to ${author}`}
          >
            Reply
          </Button>
        )}
      </Stack>
    </Group>
  );
}

/** Suggestions after "@": the names the task shows; staff also search every user. */
function useMentionData(task: Task, comments: TaskComment[], me: Me | undefined) {
  const known = useMemo(
    () =>
      mentionCandidates(
        [
          ...task.assignees.users,
          task.requester,
          ...(task.decisions ?? []).map((d) => d.user),
          ...(task.delegations ?? []).flatMap((d) => [d.from_user, d.to_user]),
          ...comments.map((c) => c.author),
        ],
        [],
        me?.username,
      ),
    [task, comments, me],
  );
  return useCallback(
    async (query: string) => {
      let found: string[] = [];
      if (me?.is_staff && query) {
        const params = { search: query, active: true, page_size: 10 };
        const page = await api<{ results: { username: string }[] }>(`/api/users/${queryString(params)}`).catch(
          () => ({ results: [] }),
        );
        found = page.results.map((u) => u.username);
      }
      const wanted = query.toLowerCase();
      return mentionCandidates(known, found, me?.username)
        .filter((name) => name.toLowerCase().includes(wanted))
        .slice(0, 10)
        .map((id) => ({ id }));
    },
    [known, me],
  );
}

function CommentBox({
  task,
  comments,
  me,
  parent,
  onDone,
}: {
  task: Task;
  comments: TaskComment[];
  me: Me | undefined;
  parent: TaskComment | null;
  onDone?: () => void;
}) {
  const client = useQueryClient();
  // The markup the field shows (a picked mention is stored as @[name](name)) and the body
  // the server gets (each mention as @name).
  const [markup, setMarkup] = useState("");
  const [body, setBody] = useState("");
  const data = useMentionData(task, comments, me);
  const post = useMutation({
    mutationFn: () =>
      api<TaskComment>(`/api/approvals/${task.id}/comments/`, {
        method: "POST",
        body: { body, parent: parent?.id ?? null },
      }),
    onSuccess: (created) => {
      client.setQueryData<TaskComments>(commentsKey(task.id), (old) =>
        old ? { ...old, comments: [...old.comments.filter((c) => c.id !== created.id), created] } : old,
      );
      void client.invalidateQueries({ queryKey: commentsKey(task.id) });
      setMarkup("");
      setBody("");
      onDone?.();
    },
  });
  // No "comment" in these names: the decision's own field is called Comment.
  const label = parent ? `Your reply to ${parent.author ?? "a former user"}` : "Your message";
  return (
    <form
      onSubmit={(event) => {
        event.preventDefault();
        if (body.trim()) post.mutate();
      }}
    >
      <Stack gap="xs">
        <Mentions
          label={label}
          description={parent ? undefined : "Type @ and a name to mention someone: they get an email."}
          placeholder={parent ? "Your reply" : "Ask a question or add context"}
          value={markup}
          onChange={(payload) => {
            setMarkup(payload.value);
            setBody(payload.idValue);
          }}
          minRows={2}
          maxRows={8}
          maxLength={10_000}
          error={errorMessage(post.error)}
          nothingFoundMessage="Nobody by that name on this task"
          comboboxProps={{ withinPortal: true }}
        >
          <Mentions.Mention trigger="@" data={data} withTrigger appendSpaceOnAdd debounceMs={150} />
        </Mentions>
        <Group justify="flex-end" gap="xs">
          {onDone && (
            <Button variant="default" size="sm" onClick={onDone}>
              Cancel
            </Button>
          )}
          <Button
            type="submit"
            size="sm"
            variant="light"
            leftSection={<IconMessage size={16} />}
            disabled={!body.trim()}
            loading={post.isPending}
          >
            {parent ? "Reply" : "Comment"}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function AttachmentRow({ file }: { file: TaskAttachment }) {
  return (
    <Group gap="xs" wrap="nowrap" role="listitem">
      <IconPaperclip size={16} aria-hidden="true" />
      <Anchor href={file.url} download={file.name} size="sm" style={{ overflowWrap: "anywhere" }}>
        {file.name}
      </Anchor>
      <Text size="xs" c="dimmed" style={{ whiteSpace: "nowrap" }}>
        {formatBytes(file.size)} · {file.uploader ?? "a former user"} ·{" "}
        <RelativeTime value={file.created_at} size="xs" c="dimmed" span />
      </Text>
    </Group>
  );
}

function Attachments({ taskId, readOnly }: { taskId: number; readOnly: boolean }) {
  const client = useQueryClient();
  const [tooBig, setTooBig] = useState<string | null>(null);
  const files = useQuery({
    queryKey: attachmentsKey(taskId),
    queryFn: () => api<TaskAttachments>(`/api/approvals/${taskId}/attachments/`),
  });
  const upload = useMutation({
    mutationFn: (file: File) => {
      const form = new FormData();
      form.append("file", file);
      return api<TaskAttachment>(`/api/approvals/${taskId}/attachments/`, { method: "POST", form });
    },
    onSuccess: () => void client.invalidateQueries({ queryKey: attachmentsKey(taskId) }),
  });
  const limit = files.data?.max_bytes ?? 0;
  const pick = (file: File | null) => {
    setTooBig(null);
    upload.reset();
    if (!file) return;
    // Said here at once; the server refuses it (413) whatever the browser says.
    if (limit && file.size > limit) {
      setTooBig(`${file.name} is ${formatBytes(file.size)}; a file may be at most ${formatBytes(limit)}.`);
      return;
    }
    upload.mutate(file);
  };
  const list = files.data?.attachments ?? [];
  const problem = tooBig ?? errorMessage(upload.error);
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        Files
      </Text>
      {list.length ? (
        <Stack gap={6} role="list" aria-label="Attached files">
          {list.map((file) => (
            <AttachmentRow key={file.id} file={file} />
          ))}
        </Stack>
      ) : (
        <Text size="sm" c="dimmed">
          {files.isPending ? "Loading…" : "No files attached."}
        </Text>
      )}
      {!readOnly && files.data?.can_attach && (
        <Group gap="sm" wrap="wrap">
          <FileButton onChange={pick}>
            {(props) => (
              <Button
                {...props}
                variant="default"
                size="sm"
                leftSection={<IconUpload size={16} />}
                loading={upload.isPending}
              >
                Attach a file
              </Button>
            )}
          </FileButton>
          <Text size="xs" c="dimmed">
            Up to {formatBytes(limit)}: PDF, images, Office documents, ZIP or text.
          </Text>
        </Group>
      )}
      {problem && (
        <Alert color="red" icon={<IconAlertTriangle size={18} />} title="The file was not attached">
          {problem}
        </Alert>
      )}
    </Stack>
  );
}

/** `task`: the whole task where it may be written to (the Inbox), or only its id to read
 * (the run view's inspector). */
export function Discussion({
  task,
  me,
  readOnly = false,
}: {
  task: Task | { id: number };
  me: Me | undefined;
  readOnly?: boolean;
}) {
  const [replyTo, setReplyTo] = useState<number | null>(null);
  const comments = useQuery({
    queryKey: commentsKey(task.id),
    queryFn: () => api<TaskComments>(`/api/approvals/${task.id}/comments/`),
  });
  const all = comments.data?.comments ?? [];
  const shown = useMemo(() => threads(all), [all]);
  const full = "assignees" in task ? task : null;
  const writable = !readOnly && full !== null && Boolean(comments.data?.can_comment);
  return (
    <Stack gap="sm" component="section" aria-label="Discussion">
      <Title order={3} size="h5">
        Discussion
      </Title>
      {shown.length === 0 && (
        <Text size="sm" c="dimmed">
          {comments.isPending ? "Loading…" : "No comments yet."}
        </Text>
      )}
      {shown.map(({ comment, replies }) => (
        <Stack key={comment.id} gap="xs">
          <CommentView comment={comment} onReply={writable ? () => setReplyTo(comment.id) : undefined} />
          {(replies.length > 0 || replyTo === comment.id) && (
            <Box
              pl="md"
              ml="xs"
              style={{ borderLeft: "2px solid var(--mantine-color-default-border)" }}
              role="group"
              aria-label={`Replies to ${comment.author ?? "a former user"}`}
            >
              <Stack gap="xs">
                {replies.map((reply) => (
                  <CommentView key={reply.id} comment={reply} />
                ))}
                {full && replyTo === comment.id && (
                  <CommentBox task={full} comments={all} me={me} parent={comment} onDone={() => setReplyTo(null)} />
                )}
              </Stack>
            </Box>
          )}
        </Stack>
      ))}
      {full && writable && <CommentBox task={full} comments={all} me={me} parent={null} />}
      <Attachments taskId={task.id} readOnly={readOnly || full === null} />
    </Stack>
  );
}
