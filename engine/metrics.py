"""Prometheus ``/metrics``, computed from the database at scrape time.

Why not counters in process memory: runs and steps change in many worker and web processes, on
several machines; prometheus-client's multiprocess mode covers one machine only and needs a
shared directory. The database already holds every fact, so a custom collector turns it into
metrics, and every web process answers the same numbers.

- Counters come from terminal rows: a run or step counts when its ``finished_at`` passes, and
  stays counted because rows are never deleted (a deployment that prunes runs would see its
  counters drop, which Prometheus reads as a reset). A step an operator retries after it
  finished counts again when it finishes again, if a scrape saw it finished in between.
- Histograms come from the same rows, with one ``Count(filter=...)`` per bucket.
- Both are cumulative and counted incrementally: each process remembers its sums up to a mark
  (``now - SETTLE``) and, at each scrape, adds only the rows whose time falls between the old
  mark and the new one (an index range on ``finished_at``/``created_at``). The first scrape of a
  process reads the whole history once; every later scrape reads a few seconds of it. Rows are
  counted ``SETTLE`` seconds late so that transactions committing after their timestamp are not
  missed; every process counts up to the same marks, so they agree (modulo those seconds).
- Gauges (queue depth, waiting tasks, active runs, live workers) are states, read every scrape.
- Human tasks (what approvals cost) count the same way: opened at ``created_at``, closed (by
  outcome, with the time from creation to closing as a histogram) and breached at
  ``closed_at``. Their labels are the workflow id and the step's node id: one series per human
  step of the graphs, as bounded as the graphs are (no user or group names, which grow).
"""

import hmac
import ipaddress
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from designer.models import Workflow
from engine.models import BreakerState, CircuitBreaker, HumanTask, Run, StepRun
from engine.sql import Seconds
from engine.states import RUN_TERMINAL, STEP_TERMINAL, RunStatus, StepStatus, TaskStatus

SETTLE = timedelta(seconds=30)
DELAY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600)
RUN_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 86400)
# People answer in minutes to days: 1 min, 5 min, 15 min, 30 min, 1 h, 4 h, 8 h, 1 d, 3 d, 7 d.
TASK_BUCKETS = (60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400)
# A closed task missed its SLA: timed out, escalated (its first due time passed), or closed at or
# after its due time (a timeout rule that approves or rejects closes then); as engine/stats.py.
TASK_BREACHED = (
    Q(status=TaskStatus.TIMED_OUT) | Q(escalation_level__gt=0) | Q(closed_at__gte=F("due_at"))
)


def _bucket_counts(name: str, buckets: tuple[float, ...]) -> dict[str, Count]:
    """One cumulative Count per bucket (``le``), plus the count of rows that have a value."""
    counts = {
        f"{name}_le_{i}": Count("pk", filter=Q(**{f"{name}__lte": b}))
        for i, b in enumerate(buckets)
    }
    counts[f"{name}_n"] = Count(name)
    return counts


class _Histogram:
    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0
        self.sum = 0.0

    def add(self, row: dict[str, Any], name: str) -> None:
        for i in range(len(self.buckets)):
            self.counts[i] += row[f"{name}_le_{i}"]
        self.total += row[f"{name}_n"]
        self.sum += row[f"{name}_sum"] or 0.0

    def pairs(self) -> list[tuple[str, int]]:
        pairs = [(floatToGoString(b), c) for b, c in zip(self.buckets, self.counts, strict=True)]
        pairs.append(("+Inf", self.total))
        return pairs

    def family(self, metric: str, doc: str) -> HistogramMetricFamily:
        family = HistogramMetricFamily(metric, doc, labels=[])
        family.add_metric([], self.pairs(), sum_value=self.sum)
        return family


class _LabelledHistograms:
    """One histogram per label values (here: workflow id and step)."""

    def __init__(self, labels: list[str], buckets: tuple[float, ...]) -> None:
        self.labels = labels
        self.buckets = buckets
        self.series: dict[tuple[str, ...], _Histogram] = {}

    def add(self, key: tuple[str, ...], row: dict[str, Any], name: str) -> None:
        self.series.setdefault(key, _Histogram(self.buckets)).add(row, name)

    def family(self, metric: str, doc: str) -> HistogramMetricFamily:
        family = HistogramMetricFamily(metric, doc, labels=self.labels)
        for key, histogram in sorted(self.series.items()):
            family.add_metric(list(key), histogram.pairs(), sum_value=histogram.sum)
        return family


class Totals:
    """The cumulative part of the metrics, up to ``mark``, in this process."""

    def __init__(self) -> None:
        self.mark: datetime | None = None
        self.runs_started: dict[str, int] = defaultdict(int)
        self.runs_finished: dict[tuple[str, str], int] = defaultdict(int)
        self.steps_finished: dict[tuple[str, str], int] = defaultdict(int)
        self.step_attempts: dict[str, int] = defaultdict(int)
        self.run_duration = _Histogram(RUN_BUCKETS)
        self.step_duration = _Histogram(STEP_BUCKETS)
        self.step_delay = _Histogram(DELAY_BUCKETS)
        self.tasks_opened: dict[tuple[str, str], int] = defaultdict(int)
        self.tasks_closed: dict[tuple[str, str, str], int] = defaultdict(int)
        self.task_breaches: dict[tuple[str, str], int] = defaultdict(int)
        self.task_decision = _LabelledHistograms(["workflow", "step"], TASK_BUCKETS)

    @staticmethod
    def _between(queryset: QuerySet, field: str, low: datetime | None, high: datetime) -> QuerySet:
        queryset = queryset.filter(**{f"{field}__lt": high})
        return queryset if low is None else queryset.filter(**{f"{field}__gte": low})

    def advance(self, now: datetime) -> None:
        """Add the rows whose time is in [mark, now - SETTLE)."""
        high = now - SETTLE
        low = self.mark
        if low is not None and high <= low:
            return
        started = self._between(Run.objects.filter(test=False), "created_at", low, high)
        for row in started.values("workflow_id").annotate(n=Count("pk")).order_by():
            self.runs_started[str(row["workflow_id"])] += row["n"]

        # No status filter in SQL: with one, SQLite chose the status index over the time range
        # and read every ended run each scrape. Rows are grouped by status; non-terminal ones
        # (a finished_at left on a reopened row) are skipped here.
        runs = self._between(Run.objects.filter(test=False), "finished_at", low, high)
        rows = (
            runs.annotate(d=Seconds("started_at", "finished_at"))
            .values("workflow_id", "status")
            .annotate(n=Count("pk"), d_sum=Sum("d"), **_bucket_counts("d", RUN_BUCKETS))
            .order_by()
        )
        for row in rows:
            if row["status"] not in RUN_TERMINAL:
                continue
            self.runs_finished[(str(row["workflow_id"]), row["status"])] += row["n"]
            self.run_duration.add(row, "d")

        steps = self._between(StepRun.objects.filter(run__test=False), "finished_at", low, high)
        rows = (
            steps.annotate(
                d=Seconds("started_at", "finished_at"), q=Seconds("queued_at", "started_at")
            )
            .values("run__workflow_id", "status")
            .annotate(
                n=Count("pk"),
                attempts=Sum("attempt"),
                d_sum=Sum("d"),
                q_sum=Sum("q"),
                **_bucket_counts("d", STEP_BUCKETS),
                **_bucket_counts("q", DELAY_BUCKETS),
            )
            .order_by()
        )
        for row in rows:
            if row["status"] not in STEP_TERMINAL:
                continue
            workflow = str(row["run__workflow_id"])
            self.steps_finished[(workflow, row["status"])] += row["n"]
            self.step_attempts[workflow] += row["attempts"] or 0
            self.step_duration.add(row, "d")
            self.step_delay.add(row, "q")
        self._advance_tasks(low, high)
        self.mark = high

    def _advance_tasks(self, low: datetime | None, high: datetime) -> None:
        tasks = HumanTask.objects.filter(run__test=False)
        opened = self._between(tasks, "created_at", low, high)
        # order_by(): the model's default ordering (-id) would split every group by id.
        grouped = opened.values("run__workflow_id", "step__node_id").annotate(n=Count("pk"))
        for row in grouped.order_by():
            self.tasks_opened[(str(row["run__workflow_id"]), row["step__node_id"])] += row["n"]
        closed = self._between(tasks, "closed_at", low, high)
        rows = (
            closed.annotate(d=Seconds("created_at", "closed_at"))
            .values("run__workflow_id", "step__node_id", "status")
            .annotate(
                n=Count("pk"),
                breached=Count("pk", filter=TASK_BREACHED),
                d_sum=Sum("d"),
                **_bucket_counts("d", TASK_BUCKETS),
            )
            .order_by()
        )
        for row in rows:
            if row["status"] == TaskStatus.OPEN:
                continue  # cannot happen: closed_at is set when a task closes
            key = (str(row["run__workflow_id"]), row["step__node_id"])
            self.tasks_closed[(*key, row["status"])] += row["n"]
            self.task_breaches[key] += row["breached"]
            if row["status"] != TaskStatus.CANCELLED:
                # A cancelled task was not decided: its run or step ended otherwise.
                self.task_decision.add(key, row, "d")


class FlowdeckCollector:
    """Reads the database at each scrape (see the module's docstring)."""

    def __init__(self) -> None:
        self.totals = Totals()
        # Two scrapes at once in one process (threads) must not add the same rows twice.
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.totals = Totals()

    def collect(self, now: datetime | None = None) -> Iterator[Metric]:
        now = now or timezone.now()
        with self.lock:
            self.totals.advance(now)
            yield from self._cumulative(self.totals)
        yield from self._gauges(now)

    @staticmethod
    def _cumulative(totals: Totals) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "flowdeck_runs_started", "Runs created, by workflow id", labels=["workflow"]
        )
        for workflow, n in sorted(totals.runs_started.items()):
            family.add_metric([workflow], n)
        yield family
        family = CounterMetricFamily(
            "flowdeck_runs_finished",
            "Runs ended, by workflow id and outcome (succeeded, failed, cancelled)",
            labels=["workflow", "outcome"],
        )
        for (workflow, outcome), n in sorted(totals.runs_finished.items()):
            family.add_metric([workflow, outcome], n)
        yield family
        family = CounterMetricFamily(
            "flowdeck_steps_finished",
            "Steps ended, by workflow id and outcome (succeeded, failed, skipped, cancelled)",
            labels=["workflow", "outcome"],
        )
        for (workflow, outcome), n in sorted(totals.steps_finished.items()):
            family.add_metric([workflow, outcome], n)
        yield family
        family = CounterMetricFamily(
            "flowdeck_step_attempts",
            "Attempts of the steps that ended, by workflow id",
            labels=["workflow"],
        )
        for workflow, n in sorted(totals.step_attempts.items()):
            family.add_metric([workflow], n)
        yield family
        yield totals.step_delay.family(
            "flowdeck_step_schedule_delay_seconds",
            "From queued to running, of the last attempt of each ended step",
        )
        yield totals.step_duration.family(
            "flowdeck_step_run_seconds", "From running to ended, of the last attempt of each step"
        )
        yield totals.run_duration.family(
            "flowdeck_run_duration_seconds", "From started to ended, of each run"
        )
        family = CounterMetricFamily(
            "flowdeck_tasks_opened",
            "Human tasks (approvals, forms) created, by workflow id and step",
            labels=["workflow", "step"],
        )
        for (workflow, step), n in sorted(totals.tasks_opened.items()):
            family.add_metric([workflow, step], n)
        yield family
        family = CounterMetricFamily(
            "flowdeck_tasks_closed",
            "Human tasks closed, by workflow id, step and outcome (approved, rejected, "
            "submitted, timed_out, cancelled)",
            labels=["workflow", "step", "outcome"],
        )
        for (workflow, step, outcome), n in sorted(totals.tasks_closed.items()):
            family.add_metric([workflow, step, outcome], n)
        yield family
        family = CounterMetricFamily(
            "flowdeck_task_breaches",
            "Human tasks that closed past their due time, timed out or escalated",
            labels=["workflow", "step"],
        )
        for (workflow, step), n in sorted(totals.task_breaches.items()):
            family.add_metric([workflow, step], n)
        yield family
        yield totals.task_decision.family(
            "flowdeck_task_decision_seconds",
            "From a human task's creation to its closing (by people or its due time; "
            "cancelled ones left out), by workflow id and step",
        )

    @staticmethod
    def _gauges(now: datetime) -> Iterator[Metric]:
        queued = StepRun.objects.filter(run__test=False, status=StepStatus.QUEUED).aggregate(
            n=Count("pk"), oldest=Min("queued_at")
        )
        yield GaugeMetricFamily("flowdeck_queue_depth", "Steps queued now", value=queued["n"])
        age = (now - queued["oldest"]).total_seconds() if queued["oldest"] else 0.0
        yield GaugeMetricFamily(
            "flowdeck_queue_oldest_age_seconds", "Age of the oldest queued step (0: none)", age
        )
        tasks = HumanTask.objects.filter(run__test=False, status=TaskStatus.OPEN).aggregate(
            waiting=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now))
        )
        yield GaugeMetricFamily(
            "flowdeck_human_tasks_waiting", "Open approvals and forms", value=tasks["waiting"]
        )
        yield GaugeMetricFamily(
            "flowdeck_human_tasks_overdue", "Open and past due", value=tasks["overdue"]
        )
        active = dict(
            Run.objects.filter(
                test=False,
                status__in=[
                    RunStatus.QUEUED,
                    RunStatus.RUNNING,
                    RunStatus.WAITING,
                    RunStatus.COMPENSATING,
                ],
            )
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        family = GaugeMetricFamily("flowdeck_runs_active", "Runs not ended", labels=["status"])
        for status in (
            RunStatus.QUEUED,
            RunStatus.RUNNING,
            RunStatus.WAITING,
            RunStatus.COMPENSATING,
        ):
            family.add_metric([status.value], active.get(status.value, 0))
        yield family
        from flowdeck.health import workers_health

        try:
            from django_q.brokers import get_broker

            workers = workers_health(get_broker())
        except Exception:  # noqa: BLE001  (a broken broker is a zero here; /healthz says why)
            workers = {"clusters": 0, "workers": 0}
        yield GaugeMetricFamily(
            "flowdeck_workers_live", "Worker processes of live clusters", workers["workers"]
        )
        yield GaugeMetricFamily(
            "flowdeck_clusters_live", "Live worker clusters", workers["clusters"]
        )
        yield from _breaker_metrics()
        family = GaugeMetricFamily(
            "flowdeck_workflow_info",
            "Names of workflow ids (join on workflow)",
            labels=["workflow", "name"],
        )
        for pk, name in Workflow.objects.values_list("pk", "name").order_by("pk"):
            family.add_metric([str(pk), name], 1)
        yield family


def _breaker_metrics() -> Iterator[Metric]:
    """One series per breaker (as many as credentials, hosts and functions with a breaker):
    its state as a 0/1 gauge per state, and its counters (kept on the row, never reset)."""
    rows = list(
        CircuitBreaker.objects.values_list(
            "key", "state", "recent", "failures_total", "opens_total"
        ).order_by("key")
    )
    state = GaugeMetricFamily(
        "flowdeck_breaker_state",
        "Circuit breakers: 1 for the state each is in (closed, open, half_open)",
        labels=["breaker", "state"],
    )
    window = GaugeMetricFamily(
        "flowdeck_breaker_window_failures",
        "Counted failures within each circuit breaker's window",
        labels=["breaker"],
    )
    failures = CounterMetricFamily(
        "flowdeck_breaker_failures",
        "Failures counted by each circuit breaker (timeouts, 5xx, connection errors)",
        labels=["breaker"],
    )
    opens = CounterMetricFamily(
        "flowdeck_breaker_opens", "Times each circuit breaker opened", labels=["breaker"]
    )
    for key, current, recent, total, opened in rows:
        for value in BreakerState.values:
            state.add_metric([key, value], 1 if current == value else 0)
        window.add_metric([key], len(recent))
        failures.add_metric([key], total)
        opens.add_metric([key], opened)
    yield from (state, window, failures, opens)


collector = FlowdeckCollector()
registry = CollectorRegistry(auto_describe=False)
registry.register(collector)


# --- Access --------------------------------------------------------------------------------------


def access_denied(request: HttpRequest) -> HttpResponse | None:
    """None when the request may scrape; else 401 (no credentials at all) or 403.

    A staff session always may. Otherwise each configured rule must hold: the bearer token
    (``FLOWDECK_METRICS_TOKEN``) and the peer address in ``FLOWDECK_METRICS_ALLOW``. The
    address is REMOTE_ADDR, the direct peer: a proxy in front needs its own address allowed.
    """
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return None
    token = settings.FLOWDECK_METRICS_TOKEN
    networks = settings.FLOWDECK_METRICS_ALLOW
    header = request.headers.get("Authorization", "")
    if token or networks:
        ok = True
        if token:
            scheme, _, given = header.partition(" ")
            # compare_digest: the time taken does not tell how much of the token was right.
            ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
        if networks and ok:
            ok = _address_in(request.META.get("REMOTE_ADDR", ""), networks)
        if ok:
            return None
    if not header and not (user is not None and user.is_authenticated):
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse("forbidden\n", status=403, content_type="text/plain")


def _address_in(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    denied = access_denied(request)
    if denied is not None:
        return denied
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
