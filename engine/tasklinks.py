"""Signed links in task emails (issue 19, "decide from the email").

A link is ``/tasks/act/<token>/``. The token is ``django.core.signing`` over a small payload
that binds the task, its attempt, the recipient (a user id, or the address of an email-only
assignee), the action (approve, reject, form) and a random nonce; the ``TaskLink`` row holds
the nonce's hash, when the link was issued, its latest expiry, and when it was used. So a
link is:

- not forgeable or alterable: any change to the token breaks its signature (400);
- not transferable: it names its recipient, and the page acts as that recipient only (a
  browser logged in as someone else is refused, 403);
- single-use: the recipient's links of a task are marked used in the transaction of their
  decision (a compare-and-set on ``used_at``), so approve and reject cannot both be clicked;
- expiring with the task: refused once the task is closed, past its due time (which an
  escalation moves), or, for a task without one, past ``FLOWDECK_TASK_LINK_MAX_AGE_S``.

Each email issues new links (the assignment, every reminder, an escalation); earlier ones stay
valid until one of them is used. Opening a link (GET) never decides: mail scanners prefetch
links, so the page asks for a click (POST, with Django's CSRF token).

This module reads and writes ``TaskLink`` rows only; deciding is ``transitions.do_decide``.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.urls import reverse

from engine.models import HumanTask, LinkAction, TaskKind, TaskLink
from engine.states import TaskStatus

SALT = "flowdeck.engine.task-link"


class LinkRefused(Exception):
    """The link cannot be used (now, or by this person): a page says why, with ``status``."""

    def __init__(self, status: int, code: str, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.title = title
        self.message = message


@dataclass(frozen=True)
class Recipient:
    """Who one email goes to: a user (by account) or an email-only assignee (by address)."""

    address: str
    user_id: int | None = None
    email: str = ""  # set for an email-only assignee

    @property
    def label(self) -> str:
        return self.email or self.address


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def absolute(path: str) -> str:
    """``path`` on FLOWDECK_BASE_URL: a worker sending mail has no request to ask."""
    return settings.FLOWDECK_BASE_URL + path


def issue_links(task: HumanTask, recipient: Recipient, now: datetime) -> dict[str, str]:
    """The URLs one recipient's email carries, by action, with their rows (in the caller's
    transaction: a rolled-back task issues nothing). An approval gets approve and reject links;
    a form, for a user, the app's task page (they log in there), and for an email-only
    assignee a signed link to a form page."""
    if task.kind == TaskKind.FORM:
        if recipient.user_id is not None:
            return {LinkAction.FORM: absolute(f"/inbox/{task.pk}")}
        actions = [LinkAction.FORM]
    else:
        actions = [LinkAction.APPROVE, LinkAction.REJECT]
    expires = now + timedelta(seconds=settings.FLOWDECK_TASK_LINK_MAX_AGE_S)
    urls = {}
    for action in actions:
        nonce = secrets.token_urlsafe(16)
        TaskLink.objects.create(
            task=task,
            attempt=task.attempt,
            user_id=recipient.user_id,
            email=recipient.email,
            action=action,
            nonce_hash=_hash(nonce),
            expires_at=expires,
        )
        payload: dict[str, Any] = {"t": task.pk, "a": task.attempt, "x": action, "n": nonce}
        if recipient.user_id is not None:
            payload["u"] = recipient.user_id
        else:
            payload["e"] = recipient.email
        token = signing.dumps(payload, salt=SALT, compress=False)
        urls[action] = absolute(reverse("task-link", args=[token]))
    return urls


TAMPERED = LinkRefused(
    400,
    "link_invalid",
    "This link is not valid",
    "The link is damaged or was altered: it may have been cut by your mail program. Open it "
    "again from the email, or act on the task in Flowdeck.",
)


def open_link(token: str) -> TaskLink:
    """The link row a token names, with its task; LinkRefused when the token's signature or
    contents are wrong (400) or its task is gone (410). Whether it may still be used is
    ``check_usable``'s question."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise TAMPERED from None
    if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
        raise TAMPERED
    link = (
        TaskLink.objects.select_related("task__run__workflow", "task__step", "user")
        .filter(nonce_hash=_hash(payload["n"]))
        .first()
    )
    if link is None:
        raise LinkRefused(
            410,
            "link_gone",
            "This task no longer exists",
            "The run this link belongs to has been deleted.",
        )
    # Signed by us, so these hold unless the secret key leaked; checked all the same.
    expected = {"t": link.task_id, "a": link.attempt, "x": link.action}
    expected |= {"u": link.user_id} if link.user_id is not None else {"e": link.email}
    if any(payload.get(key) != value for key, value in expected.items()):
        raise TAMPERED
    return link


def policy_of(task: HumanTask) -> str:
    """``login`` (the default: the recipient logs in) or ``link`` (the link is enough)."""
    return "link" if task.policy.get("email_links") == "link" else "login"


def viewer_problem(link: TaskLink, user: AbstractBaseUser) -> str | None:
    """Whether the person at the browser may use this link: ``None`` when they may,
    ``"login"`` when they must log in first, else LinkRefused (403) naming the recipient."""
    logged_in = user.is_authenticated
    if link.user_id is not None:
        if logged_in and user.pk == link.user_id:
            return None
        if not logged_in and policy_of(link.task) == "login":
            return "login"
        if not logged_in:
            return None  # "link": the signed link is the credential
    elif not logged_in or (getattr(user, "email", "") or "").lower() == link.email:
        return None
    who = user.get_username()
    raise LinkRefused(
        403,
        "link_not_yours",
        "This link is not yours",
        f"This link was sent to {link.recipient}, and you are logged in as {who}. A link "
        "works only for the person it was sent to: use your own email, or the inbox.",
    )


def deadline(link: TaskLink, task: HumanTask) -> datetime:
    """When the link stops working: the task's due time if it has one (an escalation moves
    it), else the link's own maximum age."""
    return task.due_at if task.due_at is not None else link.expires_at


def check_usable(link: TaskLink, task: HumanTask, now: datetime) -> None:
    """LinkRefused (410) when the link was used, its task closed or it expired. ``task`` is
    read under the run lock when deciding."""
    if link.used_at is not None:
        raise LinkRefused(
            410,
            "link_used",
            "This link was already used",
            "A decision was made with this email's links already; each works once. The task's "
            "history in Flowdeck shows what was decided.",
        )
    if task.status != TaskStatus.OPEN or link.attempt != task.attempt:
        closed = task.status.replace("_", " ")
        raise LinkRefused(
            410,
            "task_closed",
            "This task is closed",
            f"The task “{task.title}” is already {closed}: nothing is left to decide.",
        )
    if now >= deadline(link, task):
        raise LinkRefused(
            410,
            "link_expired",
            "This link has expired",
            "The link was valid until the task's due time (or for a limited time): open the "
            "task in Flowdeck if you still may act on it.",
        )


def use(link: TaskLink, now: datetime) -> bool:
    """Mark the link and its recipient's other links of the task used; False when it was
    used already. Called by ``do_decide`` under the run lock, in the decision's transaction."""
    # Compare-and-set: 0 rows means a concurrent request used it first.
    if not TaskLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
        return False
    TaskLink.objects.filter(
        task_id=link.task_id, user_id=link.user_id, email=link.email, used_at__isnull=True
    ).update(used_at=now)
    link.used_at = now
    return True


def recipient_user(link: TaskLink) -> AbstractBaseUser | None:
    """The account a user's link acts as (None for an email-only assignee's)."""
    if link.user_id is None:
        return None
    return link.user if link.user is not None else get_user_model().objects.get(pk=link.user_id)


def idempotency_key(link: TaskLink) -> str:
    """The decision's Idempotency-Key: a double submit of one link is one decision."""
    return f"email-link:{link.pk}"
