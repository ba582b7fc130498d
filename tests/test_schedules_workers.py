"""A schedule fired by the sweepers of real worker processes (``manage.py flowdeck_worker``):
two clusters, as on two machines, race for the due slot; one run starts and completes. On the
embedded default and, in test.sh's second pass, on PostgreSQL and Redis."""

from datetime import UTC

import pytest
from django.utils import timezone

from engine.models import Run, WorkflowSchedule
from engine.schedules import slot_key, slots_until
from tests.engine_kit import fn, workflow
from tests.helpers import wait_until
from tests.schedule_kit import scheduled_graph
from tests.workers import Workers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_due_slot_starts_one_run_that_completes_with_two_clusters_sweeping(
    workers, alice, tmp_path
):
    second = Workers(tmp_path / "second.log", FLOWDECK_WORKERS="1").start()
    try:
        graph = scheduled_graph(
            "0 6 1 1 *",  # once a year, so no other slot comes due while the test runs
            work=fn("echo", report="{{ input.report }}"),
            input={"report": "yearly"},
            catch_up="latest",
        )
        graph["output"] = {"report": "{{ steps.work.output['values'].report }}"}
        wf = workflow(alice, graph)
        schedule = WorkflowSchedule.objects.get(workflow=wf)
        assert schedule.next_fire_at.year == timezone.now().year + 1
        # Rather than wait for New Year: the last slot, as if the workers had been down since.
        slot = next(slots_until(schedule.cron, UTC, timezone.now()))
        WorkflowSchedule.objects.filter(pk=schedule.pk).update(next_fire_at=slot)

        def scheduled_run() -> Run | None:
            return Run.objects.filter(workflow=wf, trigger="schedule").first()

        run = wait_until(scheduled_run, timeout=30, what="the sweepers to fire the slot")

        def ended() -> bool:
            run.refresh_from_db()
            return run.is_terminal

        wait_until(ended, timeout=30, what="the scheduled run to end")
        assert run.status == "succeeded", workers.log() + second.log()
        assert run.output == {"report": "yearly"}
        assert run.idempotency_key == f"schedule:{slot_key(slot)}"
        schedule.refresh_from_db()
        assert schedule.next_fire_at > timezone.now()
        assert (schedule.last_run_id, schedule.last_fired_at) == (run.pk, slot)
        assert Run.objects.filter(workflow=wf).count() == 1
    finally:
        second.stop()
