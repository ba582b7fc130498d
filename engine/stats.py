"""Dashboard figures (``GET /api/stats/``): database aggregates over the runs of a time window.

Every figure is one aggregate query (``annotate``/``aggregate`` with ``Count``/``Avg`` and
filters; hour or day buckets and durations from ``engine/sql.py``); Python only fills empty
buckets, adds up per-workflow rows of the visible workflows and shapes the answer.
Percentiles are "nearest rank": count the rows, then read the one row at offset
``ceil(0.95 * n) - 1`` of the rows ordered by duration (for runs), or the row numbered
``ceil(0.95 * n)`` by ``ROW_NUMBER()`` in each (workflow, node) group (for the slowest steps,
all in one query). SQLite has no percentile function; this works on both databases, and they
sort only the rows of the window, which the time indexes find.

What counts where:
- ``started``: runs created in the bucket; ``succeeded``/``failed``/``cancelled``: runs that
  finished in it with that status.
- durations: runs finished in the window with both ``started_at`` and ``finished_at``.
- retries and step figures: the step runs that ended in the window.
- queue and human tasks: now, whatever the window (they are states, not history).
- ``human`` (what approvals cost): the tasks that closed in the window or are open now, per
  (workflow, step), per person who decided and per assigned group; see ``_human``.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Avg, Count, F, Min, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber

from designer.models import Workflow
from designer.permissions import visible_workflows
from engine.models import HumanTask, Run, StepRun, TaskDecision
from engine.sql import Seconds, bucket
from engine.states import RunStatus, StepStatus, TaskStatus
from flowdeck.params import id_or_none

WINDOWS = {"24h": 24, "7d": 7 * 24, "30d": 30 * 24}
MAX_WINDOW_H = 90 * 24
INTERVALS = {"1h": 1, "1d": 24}
TOP = 10
HUMAN_TOP = 50  # rows per table of the human section (steps, people, groups)


class StatsError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StatsQuery:
    hours: int
    interval: str  # "1h" or "1d"
    workflow: Workflow | None


def parse_query(user: AbstractBaseUser, params: Any) -> StatsQuery:
    """``window=24h|7d|30d|<n>h|<n>d``, ``interval=auto|1h|1d``, ``workflow=<id>``; a bad
    value raises ``StatsError`` naming the parameter."""
    window = (params.get("window") or "24h").strip()
    if window in WINDOWS:
        hours = WINDOWS[window]
    elif window[:-1].isascii() and window[:-1].isdecimal() and window[-1:] in ("h", "d"):
        # isdecimal and ASCII: "²h" passes isdigit() but int() refuses it.
        hours = int(window[:-1]) * (24 if window.endswith("d") else 1)
    else:
        raise StatsError("window", "use 24h, 7d, 30d, <n>h or <n>d")
    if not 1 <= hours <= MAX_WINDOW_H:
        raise StatsError("window", f"between 1h and {MAX_WINDOW_H // 24}d")
    interval = (params.get("interval") or "auto").strip()
    if interval == "auto":
        interval = "1h" if hours <= 48 else "1d"
    elif interval not in INTERVALS:
        raise StatsError("interval", "use auto, 1h or 1d")
    if hours / INTERVALS[interval] > 24 * 31:
        raise StatsError("interval", "too many buckets for this window; use 1d")
    workflow = None
    if "workflow" in params:
        # Not visible and not existing look the same: no leak of other people's workflows.
        pk = id_or_none(params["workflow"])
        workflow = visible_workflows(user).filter(pk=pk).first() if pk is not None else None
        if workflow is None:
            raise StatsError("workflow", "no such workflow")
    return StatsQuery(hours=hours, interval=interval, workflow=workflow)


def _seconds(value: float | timedelta | None) -> float | None:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return None if value is None else round(value, 3)


def _bucket_key(value: datetime | str) -> datetime:
    """A bucket as the database returns it (SQLite: UTC text, see engine/sql.py)."""
    if isinstance(value, str):
        value = datetime.strptime(value, "%Y-%m-%d %H" if len(value) > 10 else "%Y-%m-%d")
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _percentile(queryset: QuerySet, field: str, count: int, fraction: float = 0.95) -> Any:
    """Nearest-rank percentile: one row read at a computed offset of the sorted rows."""
    if count == 0:
        return None
    offset = max(0, math.ceil(fraction * count) - 1)
    return queryset.order_by(field).values_list(field, flat=True)[offset]


def _bucket_start(moment: datetime, interval: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if interval == "1d" else moment


def _step_p95(slowest: list[dict[str, Any]], since: datetime, now: datetime) -> None:
    """Nearest-rank p95 of each listed (workflow, node), in one query: number the rows of each
    group by duration (a window function, on both databases) and keep the wanted ranks."""
    if not slowest:
        return
    wanted = {
        (r["run__workflow_id"], r["node_id"]): max(1, math.ceil(0.95 * r["timed"])) for r in slowest
    }
    # Every group of the window is numbered (a sort of the window's steps, on their time index):
    # an OR of the listed groups made SQLite give up that index and scan all steps.
    ranked = (
        StepRun.objects.filter(run__test=False, finished_at__gte=since, finished_at__lt=now)
        .annotate(d=Seconds("started_at", "finished_at"))
        .filter(d__isnull=False)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("run__workflow_id"), F("node_id")],
                order_by=F("d").asc(),
            )
        )
        .filter(rank__in=set(wanted.values()))
        .values_list("run__workflow_id", "node_id", "rank", "d")
    )
    found = {(w, n): d for w, n, rank, d in ranked if wanted.get((w, n)) == rank}
    for row in slowest:
        row["p95"] = found.get((row["run__workflow_id"], row["node_id"]))


def compute(user: AbstractBaseUser, query: StatsQuery, now: datetime) -> dict[str, Any]:
    """The figures of ``GET /api/stats/`` for what ``user`` may see."""
    since = now - timedelta(hours=query.hours)
    runs = Run.objects.filter(test=False)
    visible: set[int] | None = None  # None: every workflow
    if query.workflow is not None:
        visible = {query.workflow.pk}
    elif not user.is_staff:
        # The ids first, as in the runs list: a short list lets the database use its indexes.
        visible = set(visible_workflows(user).values_list("pk", flat=True))
    if visible is not None:
        # "workflow_id + 0": an expression, not the column, so that SQLite reads the window
        # through the time indexes and checks the workflow per row, instead of walking every
        # run of the visible workflows through (workflow, -id) (3-4x slower at 100,000 runs).
        runs = runs.alias(workflow_plain=F("workflow_id") + 0).filter(workflow_plain__in=visible)
    vendor = connection.vendor

    # The series: two grouped queries, one per time column (each on its own index).
    started = (
        runs.filter(created_at__gte=since, created_at__lt=now)
        .annotate(t=bucket("created_at", query.interval, vendor))
        .values("t")
        .annotate(n=Count("pk"))
        .order_by()
    )
    finished_runs = runs.filter(finished_at__gte=since, finished_at__lt=now)
    ended = (
        finished_runs.annotate(t=bucket("finished_at", query.interval, vendor))
        .values("t")
        .annotate(
            succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
            failed=Count("pk", filter=Q(status=RunStatus.FAILED)),
            cancelled=Count("pk", filter=Q(status=RunStatus.CANCELLED)),
        )
        .order_by()
    )
    step_h = INTERVALS[query.interval]
    buckets: dict[datetime, dict[str, Any]] = {}
    t = _bucket_start(since, query.interval)
    while t < now:
        buckets[t] = {"t": t, "started": 0, "succeeded": 0, "failed": 0, "cancelled": 0}
        t += timedelta(hours=step_h)
    for row in started:
        buckets[_bucket_key(row["t"])]["started"] = row["n"]
    for row in ended:
        slot = buckets[_bucket_key(row["t"])]
        for key in ("succeeded", "failed", "cancelled"):
            slot[key] = row[key]
    series = list(buckets.values())
    totals = {
        key: sum(b[key] for b in series) for key in ("started", "succeeded", "failed", "cancelled")
    }
    completed = totals["succeeded"] + totals["failed"] + totals["cancelled"]

    # Run durations of the runs finished in the window.
    timed_runs = finished_runs.filter(started_at__isnull=False).annotate(
        d=Seconds("started_at", "finished_at")
    )
    agg = timed_runs.aggregate(n=Count("pk"), avg=Avg("d"))
    p50 = _percentile(timed_runs, "d", agg["n"], 0.5)
    p95 = _percentile(timed_runs, "d", agg["n"])

    # Steps that ended in the window: one query grouped by (workflow, node) over the steps'
    # own time index, with no workflow filter in SQL (with one, SQLite walked the runs of the
    # visible workflows instead, ~3x slower); the visible groups are added up here.
    groups = [
        row
        for row in StepRun.objects.filter(
            run__test=False, finished_at__gte=since, finished_at__lt=now
        )
        .annotate(d=Seconds("started_at", "finished_at"))
        .values("run__workflow_id", "node_id")
        .annotate(
            tried=Count("pk", filter=Q(attempt__gte=1)),
            attempts=Sum("attempt", filter=Q(attempt__gte=1)),
            timed=Count("d"),
            mean=Avg("d"),
        )
        .order_by()
        if visible is None or row["run__workflow_id"] in visible
    ]
    step_runs = sum(row["tried"] for row in groups)
    extra = sum(row["attempts"] or 0 for row in groups) - step_runs
    busiest = sorted(
        (row for row in groups if row["tried"]),
        key=lambda r: (-r["attempts"], r["run__workflow_id"], r["node_id"]),
    )[:TOP]
    slowest = sorted(
        (row for row in groups if row["timed"]),
        key=lambda r: (-r["mean"], r["run__workflow_id"], r["node_id"]),
    )[:TOP]
    _step_p95(slowest, since, now)

    failing = list(
        finished_runs.values("workflow_id")
        .annotate(
            failed=Count("pk", filter=Q(status=RunStatus.FAILED)),
            completed=Count("pk"),
        )
        .filter(failed__gt=0)
        .order_by("-failed", "workflow_id")[:TOP]
    )

    # Now, per workflow, then only the visible ones added up (a row per workflow, not per step):
    # filtering by workflow in SQL made SQLite leave the small partial index on queued steps
    # for the runs' workflow index and read every step of those runs.
    depth, oldest = 0, None
    queued = (
        StepRun.objects.filter(run__test=False, status=StepStatus.QUEUED)
        .values("run__workflow_id")
        .annotate(n=Count("pk"), oldest=Min("queued_at"))
        .order_by()
    )
    for row in queued:
        if visible is None or row["run__workflow_id"] in visible:
            depth += row["n"]
            oldest = row["oldest"] if oldest is None else min(oldest, row["oldest"])
    waiting = overdue = 0
    open_tasks = (
        HumanTask.objects.filter(run__test=False, status=TaskStatus.OPEN)
        .values("run__workflow_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_at__lt=now)))
        .order_by()
    )
    for row in open_tasks:
        if visible is None or row["run__workflow_id"] in visible:
            waiting += row["n"]
            overdue += row["late"]

    # Names of the (at most 3 * TOP) listed workflows, in one query rather than a join per row.
    listed = {r["run__workflow_id"] for r in busiest + slowest} | {
        r["workflow_id"] for r in failing
    }
    human = _human(visible, since, now)
    listed |= {r["workflow"] for r in human["steps"]}
    names = dict(Workflow.objects.filter(pk__in=listed).values_list("pk", "name"))
    for row in human["steps"]:
        row["workflow_name"] = names.get(row["workflow"], "")

    return {
        "window": {"since": since, "until": now, "hours": query.hours},
        "interval": query.interval,
        "workflow": query.workflow.pk if query.workflow else None,
        "series": series,
        "totals": totals,
        "failure_rate": round(totals["failed"] / completed, 4) if completed else None,
        "duration_s": {
            "count": agg["n"],
            "avg": _seconds(agg["avg"]),
            "p50": _seconds(p50),
            "p95": _seconds(p95),
        },
        "retries": {
            "step_runs": step_runs,
            "extra_attempts": extra,
            "rate": round(extra / step_runs, 4) if step_runs else None,
        },
        "queue": {
            "depth": depth,
            "oldest_age_s": _seconds(now - oldest) if oldest else None,
        },
        "tasks": {"waiting": waiting, "overdue": overdue},
        "busiest_steps": [
            {
                "workflow": row["run__workflow_id"],
                "workflow_name": names.get(row["run__workflow_id"], ""),
                "node": row["node_id"],
                "attempts": row["attempts"],
                "step_runs": row["tried"],
            }
            for row in busiest
        ],
        "slowest_steps": [
            {
                "workflow": row["run__workflow_id"],
                "workflow_name": names.get(row["run__workflow_id"], ""),
                "node": row["node_id"],
                "count": row["timed"],
                "mean_s": _seconds(row["mean"]),
                "p95_s": _seconds(row["p95"]),
            }
            for row in slowest
        ],
        "failing_workflows": [
            {
                "workflow": row["workflow_id"],
                "workflow_name": names.get(row["workflow_id"], ""),
                "failed": row["failed"],
                "completed": row["completed"],
                "failure_rate": round(row["failed"] / row["completed"], 4),
            }
            for row in failing
        ],
        "human": human,
    }


# --- What approvals cost (issue 19, item 5) -------------------------------------------------------


def _nearest_rank(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an already sorted list, as for the runs above."""
    if not values:
        return None
    return values[max(0, math.ceil(fraction * len(values)) - 1)]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _TaskFigures:
    """The counts and durations of a set of tasks (a step's, or all of them)."""

    def __init__(self) -> None:
        self.opened = self.closed = self.open = 0
        self.by_status: dict[str, int] = defaultdict(int)
        self.escalated = self.due = self.breached = 0
        self.waits: list[float] = []  # created -> closed, closed by people or by their due time
        self.ages: list[float] = []  # created -> now, of the open ones

    def add(self, task: tuple, since: datetime, now: datetime) -> None:
        _, _, _, _, status, created, closed, due, level = task
        if created >= since:
            self.opened += 1
        if status == TaskStatus.OPEN:
            self.open += 1
            self.ages.append((now - created).total_seconds())
        else:
            self.closed += 1
            self.by_status[status] += 1
            if status != TaskStatus.CANCELLED:
                # A cancelled task says nothing of people: its run or step ended otherwise.
                self.waits.append((closed - created).total_seconds())
        self.escalated += level > 0
        if due is not None or level > 0:
            # An escalation resets due_at (maybe to none), but it happened because one passed.
            self.due += 1
            self.breached += _breached(status, closed, due, level, now)

    def figures(self) -> dict[str, Any]:
        self.waits.sort()
        self.ages.sort()
        return {
            "opened": self.opened,
            "closed": self.closed,
            "open": self.open,
            "approved": self.by_status[TaskStatus.APPROVED],
            "rejected": self.by_status[TaskStatus.REJECTED],
            "submitted": self.by_status[TaskStatus.SUBMITTED],
            "timed_out": self.by_status[TaskStatus.TIMED_OUT],
            "cancelled": self.by_status[TaskStatus.CANCELLED],
            "escalated": self.escalated,
            "with_due": self.due,
            "breached": self.breached,
            "breach_rate": _rate(self.breached, self.due),
            "wait_p50_s": _seconds(_nearest_rank(self.waits, 0.5)),
            "wait_p95_s": _seconds(_nearest_rank(self.waits, 0.95)),
            "open_age_p50_s": _seconds(_nearest_rank(self.ages, 0.5)),
            "open_oldest_s": _seconds(self.ages[-1] if self.ages else None),
        }


def _breached(
    status: str, closed: datetime | None, due: datetime | None, level: int, now: datetime
) -> bool:
    """The SLA was missed: timed out, escalated, closed at or after its due time (a timeout
    rule that approved or rejected closes then), or still open past it."""
    if status == TaskStatus.TIMED_OUT or level > 0:
        return True
    if due is None:
        return False
    return closed >= due if closed is not None else now > due


def _human(visible: set[int] | None, since: datetime, now: datetime) -> dict[str, Any]:
    """What people's work cost in the window: the tasks that closed in it or are open now
    (every task opened in the window is one or the other), grouped in Python from three
    ``values_list`` queries (tasks, decisions, group assignments) over the window's rows: the
    percentiles need the rows anyway, and one portable path serves SQLite and PostgreSQL."""
    tasks = HumanTask.objects.filter(run__test=False).filter(
        # Two index ranges (status, closed_at) that the database ORs together.
        Q(status=TaskStatus.OPEN) | Q(closed_at__gte=since, closed_at__lt=now)
    )
    rows = [
        row
        for row in tasks.values_list(
            "pk",
            "run__workflow_id",
            "step__node_id",
            "kind",
            "status",
            "created_at",
            "closed_at",
            "due_at",
            "escalation_level",
        ).order_by()
        if visible is None or row[1] in visible
    ]
    per_step: dict[tuple[int, str], _TaskFigures] = defaultdict(_TaskFigures)
    kinds: dict[tuple[int, str], str] = {}
    total = _TaskFigures()
    by_pk: dict[int, tuple] = {}
    for row in rows:
        key = (row[1], row[2])
        per_step[key].add(row, since, now)
        kinds[key] = row[3]
        total.add(row, since, now)
        by_pk[row[0]] = row
    steps = [
        {"workflow": wf, "node": node, "kind": kinds[(wf, node)], **f.figures()}
        for (wf, node), f in per_step.items()
    ]
    steps.sort(key=lambda r: (-(r["closed"] + r["open"]), r["workflow"], r["node"]))

    # Who decided in the window, and how long after the task was asked.
    decided: dict[str, dict[str, Any]] = {}
    decisions = (
        TaskDecision.objects.filter(
            task__run__test=False, created_at__gte=since, created_at__lt=now, user__isnull=False
        )
        .values_list(
            "user__username", "decision", "task__run__workflow_id", "task__created_at", "created_at"
        )
        .order_by()
    )
    for username, decision, workflow_id, asked, at in decisions:
        if visible is not None and workflow_id not in visible:
            continue
        person = decided.setdefault(
            username, {"user": username, "decisions": 0, "by": defaultdict(int), "times": []}
        )
        person["decisions"] += 1
        person["by"][decision] += 1
        person["times"].append((at - asked).total_seconds())
    people = []
    for person in decided.values():
        times = sorted(person.pop("times"))
        by = person.pop("by")
        people.append(
            person
            | {
                "approved": by["approve"],
                "rejected": by["reject"],
                "submitted": by["submit"],
                "decision_p50_s": _seconds(_nearest_rank(times, 0.5)),
            }
        )
    people.sort(key=lambda r: (-r["decisions"], r["user"]))

    # The groups the same tasks were assigned to (an escalation's groups included).
    assigned = HumanTask.assigned_groups.through.objects.filter(humantask__in=tasks).values_list(
        "humantask_id", "group__name"
    )
    per_group: dict[str, _TaskFigures] = defaultdict(_TaskFigures)
    for task_id, name in assigned.order_by():
        if task_id in by_pk:
            per_group[name].add(by_pk[task_id], since, now)
    groups = []
    for name, f in per_group.items():
        figures = f.figures()
        groups.append(
            {
                "group": name,
                "tasks": figures["closed"] + figures["open"],
                "open": figures["open"],
                "closed": figures["closed"],
                "breached": figures["breached"],
                "wait_p50_s": figures["wait_p50_s"],
            }
        )
    groups.sort(key=lambda r: (-r["tasks"], r["group"]))
    return {
        "totals": total.figures(),
        "steps": steps[:HUMAN_TOP],
        "assignees": people[:HUMAN_TOP],
        "groups": groups[:HUMAN_TOP],
    }
