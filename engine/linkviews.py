"""The page behind an email's signed link (engine/tasklinks.py): ``/tasks/act/<token>/``.

Server-rendered, outside the single-page app and the API: GET shows the task, a comment box
and one button, and never decides (mail scanners prefetch links); POST, with Django's CSRF
token (anonymous sessions have one too), decides through ``transitions.check_link_decide`` and
``do_decide``, with an Idempotency-Key derived from the link. Every refusal is a page of its
own, with its status (400 damaged, 403 not yours, 410 used, expired or closed), that changes
nothing. The page is drawn by frontend/src/auth.tsx from the data attributes, like the login
page, and works without scripts (a plain form in <noscript>).
"""

import json
import logging
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from engine import tasklinks, transitions
from engine.models import HumanTask, TaskLink, TaskStatus

log = logging.getLogger("flowdeck.engine")

MAX_COMMENT = 10_000  # as the API's DecideSerializer

ACTIONS = {
    "approve": ("Approve", "Approve this task?"),
    "reject": ("Reject", "Reject this task?"),
    "form": ("Submit", "Fill in this form"),
}

# Form fields the page can draw from a form_schema's top-level properties.
FIELD_TYPES = {"string": "text", "number": "number", "integer": "integer", "boolean": "boolean"}


def _page(request: HttpRequest, status: int, **context: Any) -> HttpResponse:
    response = render(request, "tasks/link.html", context, status=status)
    # The token is in the URL: no Referer carries it to another site, no search engine keeps
    # it. Not "no-referrer": the browser would then send "Origin: null" with the form's POST,
    # which Django's CSRF check refuses.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    if status >= 400:
        # Django's own line ("Gone: /tasks/act/<token>/") is masked by settings.LOGGING
        # (flowdeck/logmask.py); this one says why.
        log.info("task link refused with %s: %s", status, context.get("code", "bad input"))
    return response


def _refused(request: HttpRequest, exc: tasklinks.LinkRefused) -> HttpResponse:
    return _page(
        request, exc.status, mode="refused", code=exc.code, title=exc.title, message=exc.message
    )


def _as_refusal(exc: Exception) -> tasklinks.LinkRefused:
    """The engine's refusals of a decision, as the pages say them."""
    code = getattr(exc, "code", "conflict")
    if isinstance(exc, transitions.Forbidden):
        return tasklinks.LinkRefused(
            403,
            code,
            "You may not decide this task",
            "You are no longer asked to act on this task (it was handed to someone else, or "
            "the workflow asks someone else to decide)."
            if code == "not_assignee"
            else str(exc)[:1].upper() + str(exc)[1:] + ".",
        )
    if code == "already_decided":
        return tasklinks.LinkRefused(
            410, code, "You already decided", "Your decision on this task is already recorded."
        )
    if code == "task_closed":
        return tasklinks.LinkRefused(
            410, code, "This task is closed", "Nothing is left to decide on this task."
        )
    if isinstance(exc, LookupError):
        return tasklinks.LinkRefused(410, "link_gone", "This task no longer exists", "")
    return tasklinks.LinkRefused(410, code, "This link cannot be used now", str(exc))


def _fields(task: HumanTask, values: dict[str, Any], errors: dict[str, str]) -> list[dict]:
    """The form page's fields, from the top-level properties of the task's form_schema."""
    schema = task.form_schema or {}
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        if not isinstance(prop, dict):
            continue
        enum = isinstance(prop.get("enum"), list)
        kind = "select" if enum else FIELD_TYPES.get(prop.get("type"))
        if kind is None:
            continue  # arrays and objects: the app's form draws those
        fields.append(
            {
                "name": name,
                "label": str(prop.get("title") or name),
                "description": str(prop.get("description") or ""),
                "type": kind,
                "options": [str(o) for o in prop.get("enum", [])] if kind == "select" else [],
                "required": name in required,
                "value": values.get(name, ""),
                "error": errors.get(name, ""),
            }
        )
    return fields


def _form_data(task: HumanTask, post: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted fields as the form_schema's types, and errors of values that are not."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in _fields(task, {}, {}):
        name, kind = field["name"], field["type"]
        prop = task.form_schema["properties"][name]
        if kind == "boolean":
            data[name] = name in post
            continue
        raw = str(post.get(name, "")).strip() if kind != "text" else str(post.get(name, ""))
        if raw == "":
            continue  # left empty: "required" is the schema's to say
        if kind == "select":
            options = {str(o): o for o in prop["enum"]}
            if raw not in options:
                errors[name] = "Choose one of the options."
            else:
                data[name] = options[raw]
        elif kind in ("number", "integer"):
            try:
                number = float(raw) if kind == "number" else int(raw)
            except ValueError:
                errors[name] = "A whole number." if kind == "integer" else "A number."
                continue
            data[name] = int(number) if kind == "number" and number.is_integer() else number
        else:
            data[name] = raw
    return data, errors


@method_decorator(never_cache, name="dispatch")
class TaskLinkView(View):
    """GET: the confirmation (or form) page; POST: decide. No login needed where the
    workflow's ``email_links`` is ``link``; under ``login`` a visitor is sent to log in."""

    http_method_names = ["get", "post"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method.lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        try:
            link = tasklinks.open_link(kwargs["token"])
            if tasklinks.viewer_problem(link, request.user) == "login":
                return redirect_to_login(request.get_full_path())
            kwargs["link"] = link
            return super().dispatch(request, *args, **kwargs)
        except tasklinks.LinkRefused as exc:
            return _refused(request, exc)

    def get(self, request: HttpRequest, token: str, link: TaskLink) -> HttpResponse:
        try:
            transitions.check_link_decide(link, submit=False)
        except (transitions.Conflict, transitions.Forbidden, LookupError) as exc:
            return _refused(request, _as_refusal(exc))
        return self.ask(request, link, status=200)

    def post(self, request: HttpRequest, token: str, link: TaskLink) -> HttpResponse:
        comment = str(request.POST.get("comment", ""))
        if len(comment) > MAX_COMMENT:
            errors = {"comment": f"At most {MAX_COMMENT} characters."}
            return self.ask(request, link, status=400, errors=errors)
        data = None
        if link.action == "form":
            data, errors = _form_data(link.task, request.POST)
            if errors:
                return self.ask(request, link, status=400, errors=errors)
        try:
            repeated = transitions.check_link_decide(link, submit=True, data=data, comment=comment)
            if not repeated:
                transitions.do_decide(
                    link.task_id,
                    actor=tasklinks.recipient_user(link),
                    email=link.email,
                    decision=transitions.link_decision(link),
                    comment=comment,
                    data=data,
                    idempotency_key=tasklinks.idempotency_key(link),
                    link=link,
                )
        except transitions.InputInvalid as exc:
            errors = {
                str(e.get("field", "")).removeprefix("data.").split(".")[0]: e["message"]
                for e in exc.errors
            }
            return self.ask(request, link, status=400, errors=errors)
        except tasklinks.LinkRefused as exc:
            return _refused(request, exc)
        except (transitions.Conflict, transitions.Forbidden, LookupError) as exc:
            return _refused(request, _as_refusal(exc))
        task = HumanTask.objects.get(pk=link.task_id)
        return _page(request, 200, mode="done", **self.facts(task, link), outcome=_outcome(task))

    def ask(
        self, request: HttpRequest, link: TaskLink, *, status: int, errors: dict | None = None
    ) -> HttpResponse:
        errors = errors or {}
        task = link.task
        values = dict(request.POST.items()) if request.method == "POST" else {}
        fields = _fields(task, values, errors) if link.action == "form" else []
        drawn = {field["name"] for field in fields}
        return _page(
            request,
            status,
            mode="form" if link.action == "form" else "confirm",
            **self.facts(task, link),
            fields=fields,
            fields_json=json.dumps(fields),
            comment=values.get("comment", ""),
            comment_error=errors.get("comment", ""),
            # What no field shows: a required field the page cannot draw, say.
            form_error=" ".join(m for f, m in errors.items() if f != "comment" and f not in drawn),
        )

    @staticmethod
    def facts(task: HumanTask, link: TaskLink) -> dict[str, Any]:
        button, heading = ACTIONS[link.action]
        return {
            "task": task,
            "action": link.action,
            "button": button,
            "heading": heading,
            "recipient": link.recipient,
            "workflow_name": task.run.workflow.name,
            "due": f"{task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else "",
        }


def _outcome(task: HumanTask) -> str:
    """What the decision led to, in words, for the page after it."""
    if task.status == TaskStatus.OPEN:
        return "Your decision is recorded. The task waits for the other approvals it needs."
    return {
        TaskStatus.APPROVED: "Your decision is recorded: the task is approved and the "
        "workflow goes on.",
        TaskStatus.REJECTED: "Your decision is recorded: the task is rejected and the "
        "workflow goes on.",
        TaskStatus.SUBMITTED: "Your answers are recorded and the workflow goes on.",
    }.get(task.status, f"Your decision is recorded; the task is {task.status}.")
