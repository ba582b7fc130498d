"""Talking about a task: comments (threaded one level, with @mentions that email) and
attachments. The services module of the approvals API's ``comments`` and ``attachments``
endpoints: ``check_*`` beside ``do_*`` (STYLE 1), events through engine/events.py, mail after
commit.

Who reads: anyone who may see the task (``transitions.visible_task``; 404 for anyone else).
Who writes, while the task is open (409 once it is closed): its participants, that is its
assignees now (``HumanTask.may_act``, four eyes does not matter: talking is not deciding) and
those who already decided it (an approver of an N-of-M task answers questions), and the run's
workflow editors and owner (they built what is being asked). A viewer or runner of the workflow
reads along but does not write (403).
"""

import re
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from designer.models import Role
from designer.permissions import has_role
from engine import events, tasklinks
from engine.attachments import Scanned, clean_name
from engine.models import HumanTask, TaskAttachment, TaskComment
from engine.states import TaskStatus
from engine.transitions import (
    Conflict,
    Forbidden,
    _invalid,
    _lock_task,
    mail_on_commit,
    visible_task,
)

MAX_COMMENTS = 500  # per task: a discussion, not a chat log
MAX_ATTACHMENTS = 50  # per task
MAX_MENTIONS = 20  # per comment: more is a mailing list

# @username, Django's username characters; not inside a word or an address (bob@example.com).
MENTION = re.compile(r"(?<![\w.@+-])@([\w.@+-]{1,150})")


def mentioned_names(body: str) -> list[str]:
    """The usernames ``@``-named in ``body``, in order, once each; a trailing dot or dash
    ends a sentence, not the name ("thanks @bob.")."""
    names: list[str] = []
    for match in MENTION.finditer(body):
        name = match.group(1).rstrip(".-")
        if name and name not in names:
            names.append(name)
    return names


def may_write(task: HumanTask, user: AbstractBaseUser) -> bool:
    """May ``user`` comment on or attach to ``task`` (whatever its status)?"""
    if not user.is_authenticated or not user.is_active:
        return False
    return (
        task.may_act(user)
        or task.decisions.filter(user_id=user.pk).exists()
        or has_role(user, task.run.workflow, Role.EDITOR)
    )


def _check_writer(task: HumanTask, user: AbstractBaseUser, doing: str) -> None:
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"the task is {task.status}: its discussion is closed", "task_closed")
    if not may_write(task, user):
        raise Forbidden(
            f"only the task's assignees and the workflow's editors may {doing}", "not_participant"
        )


def _thread_root(task: HumanTask, parent: Any) -> TaskComment | None:
    """The comment a reply goes under: the root of ``parent``'s thread (one level)."""
    if parent is None:
        return None
    found = (
        TaskComment.objects.filter(task=task, pk=parent).first()
        if isinstance(parent, int)
        else None
    )
    if found is None:
        raise _invalid("parent", "invalid", "parent is not a comment on this task")
    return found.parent if found.parent_id else found


def check_comment(
    user: AbstractBaseUser, task_id: Any, *, body: str, parent: int | None = None
) -> HumanTask:
    """Raise LookupError (404), Conflict (409), Forbidden (403) or InputInvalid (400) unless
    ``user`` may post this comment now."""
    task = visible_task(user, task_id)
    _check_writer(task, user, "comment")
    if not body.strip():
        raise _invalid("body", "blank", "a comment needs some text")
    _thread_root(task, parent)
    return task


def _mentioned_users(task: HumanTask, body: str, author: AbstractBaseUser) -> list[Any]:
    """The users named in ``body`` who may see the task; the others' names stay plain text,
    so nobody learns of a task by being mentioned on it."""
    names = [n for n in mentioned_names(body) if n != author.get_username()][:MAX_MENTIONS]
    users = get_user_model().objects.filter(username__in=names, is_active=True)
    found = []
    for user in sorted(users, key=lambda u: names.index(u.get_username())):
        try:
            visible_task(user, task.pk)
        except LookupError:
            continue
        found.append(user)
    return found


def _mention_mail(task: HumanTask, comment: TaskComment, author: AbstractBaseUser) -> str:
    quoted = "\n".join(f"> {line}" for line in comment.body.splitlines())
    return "\n".join(
        [
            f"{author.get_username()} mentioned you in a comment on a task:",
            "",
            task.title,
            "",
            quoted,
            "",
            f"Open the task: {tasklinks.absolute(f'/inbox/{task.pk}')}",
        ]
    )


@transaction.atomic
def do_comment(
    task_id: int,
    *,
    actor: AbstractBaseUser,
    body: str,
    parent: int | None = None,
) -> TaskComment:
    """Post ``actor``'s comment on an open task, under ``parent``'s thread if given; the users
    it mentions who may see the task are recorded and emailed after commit, with the task's
    address in the app."""
    # The run lock: a task closing at this moment is seen closed, so no comment lands on a
    # task after its decision (the same lock every decision takes).
    _, task = _lock_task(task_id)
    _check_writer(task, actor, "comment")
    if not body.strip():
        raise _invalid("body", "blank", "a comment needs some text")
    root = _thread_root(task, parent)
    if task.comments.count() >= MAX_COMMENTS:
        raise Conflict(f"a task takes at most {MAX_COMMENTS} comments", "too_many_comments")
    comment = TaskComment.objects.create(task=task, author=actor, parent=root, body=body)
    mentioned = _mentioned_users(task, body, actor)
    comment.mentions.set(mentioned)
    events.record_task_commented(task, comment, [u.get_username() for u in mentioned])
    mail_on_commit(
        [u.pk for u in mentioned],
        f"{actor.get_username()} mentioned you: {task.title}",
        _mention_mail(task, comment, actor),
    )
    return comment


# --- Attachments -------------------------------------------------------------------------------


def check_attach(user: AbstractBaseUser, task_id: Any) -> HumanTask:
    """As check_comment, for attaching a file (its content is checked by attachments.scan)."""
    task = visible_task(user, task_id)
    _check_writer(task, user, "attach files")
    return task


def store(task: HumanTask, upload: UploadedFile) -> str:
    """Write the upload's bytes to the default storage under a random name, before any
    transaction: a slow storage (S3) never holds the run lock. Returns the stored name."""
    return default_storage.save(f"attachments/{task.pk}/{uuid.uuid4().hex}", upload)


@transaction.atomic
def _attach(
    task_id: int, actor: AbstractBaseUser, stored: str, name: str, scanned: Scanned
) -> TaskAttachment:
    _, task = _lock_task(task_id)  # as do_comment: not on a task that closed meanwhile
    _check_writer(task, actor, "attach files")
    if task.attachments.count() >= MAX_ATTACHMENTS:
        raise Conflict(f"a task takes at most {MAX_ATTACHMENTS} files", "too_many_attachments")
    attachment = TaskAttachment.objects.create(
        task=task,
        uploader=actor,
        file=stored,
        name=clean_name(name),
        content_type=scanned.content_type,
        size=scanned.size,
        sha256=scanned.sha256,
    )
    events.record_task_attachment_added(task, attachment)
    return attachment


def do_attach(
    task_id: int, *, actor: AbstractBaseUser, upload: UploadedFile, scanned: Scanned
) -> TaskAttachment:
    """Attach a scanned upload to an open task: the bytes go to the storage first, then the
    row and its event in one transaction; if that fails, the stored bytes are deleted again."""
    task = HumanTask.objects.get(pk=task_id)
    stored = store(task, upload)
    try:
        return _attach(task_id, actor, stored, upload.name or "", scanned)
    except BaseException:
        default_storage.delete(stored)
        raise


def visible_attachment(user: AbstractBaseUser, task_id: Any, attachment_id: Any) -> TaskAttachment:
    """The attachment if ``user`` may see its task; LookupError (404) otherwise."""
    task = visible_task(user, task_id)
    try:
        pk = int(attachment_id)
    except (TypeError, ValueError):
        raise LookupError(attachment_id) from None
    found = TaskAttachment.objects.filter(task=task, pk=pk).first()
    if found is None:
        raise LookupError(attachment_id)
    return found
