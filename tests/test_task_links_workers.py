"""Deciding from the email with real workers and a real SMTP server (issue 19): the worker that
parks the approval step mails each assignee through tests/smtp_server.py; the test takes the
link out of the delivered message, opens it with Django's test client and presses the button;
the run goes on. A second click, the link opened by someone else, and the link after its task
expired each get a page that says so and change nothing."""

import email.message
import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from engine.models import Run, TaskDecision
from tests.engine_kit import approval_graph, start, task_of, workflow
from tests.helpers import free_port, wait_until
from tests.smtp_server import smtp_server

pytestmark = pytest.mark.django_db(transaction=True)

BASE = "http://flowdeck.test"
PASSWORD = "smtp-pw-links-51c2"
LINK = re.compile(r"^(Approve|Reject): (\S+)\r?$", re.M)


@pytest.fixture(scope="module")
def mailbox():
    controller, box = smtp_server(free_port(), login=("mailer", PASSWORD))
    box.port = controller.port
    yield box
    controller.stop()


@pytest.fixture(scope="module")
def mailing_workers(django_db_setup, tmp_path_factory, mailbox):
    """Workers whose mail goes to the test's SMTP server, with links on BASE."""
    from tests.workers import Workers

    running = Workers(
        tmp_path_factory.mktemp("workers") / "worker.log",
        FLOWDECK_EMAIL_HOST="127.0.0.1",
        FLOWDECK_EMAIL_PORT=str(mailbox.port),
        FLOWDECK_EMAIL_USER="mailer",
        FLOWDECK_EMAIL_PASSWORD=PASSWORD,
        FLOWDECK_EMAIL_TLS="false",
        FLOWDECK_BASE_URL=BASE,
    ).start()
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def _addresses(bob, dave, settings, mailbox):
    settings.FLOWDECK_BASE_URL = BASE
    bob.email, dave.email = "bob@example.com", "dave@example.com"
    bob.save()
    dave.save()
    mailbox.messages.clear()


def delivered_to(mailbox, address: str) -> email.message.Message:
    def find():
        found = [m for _, to, m in mailbox.messages if to == [address]]
        return found[-1] if found else None

    return wait_until(find, timeout=30, what=f"an email to {address}")


def text_of(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()


def link_paths(message: email.message.Message) -> dict[str, str]:
    return {label: url.removeprefix(BASE) for label, url in LINK.findall(text_of(message))}


def ended(run: Run) -> Run:
    def done():
        run.refresh_from_db()
        return run if run.is_terminal else None

    return wait_until(done, timeout=30, what=f"run {run.pk} to end")


def test_the_link_in_the_delivered_email_decides_the_task_once_and_the_run_goes_on(
    mailing_workers, mailbox, alice, bob, dave, charlie
):
    run = start(workflow(alice, approval_graph(), name="Payments"), {"amount": 5}, actor=alice)
    message = delivered_to(mailbox, "bob@example.com")
    delivered_to(mailbox, "dave@example.com")
    bob_links = link_paths(message)
    assert message["Subject"] == "For you to decide: Pay 5 EUR"
    assert mailbox.logins and set(bob_links) == {"Approve", "Reject"}

    # Opened by someone else (forwarded): refused, nothing changes.
    assert Client().get(bob_links["Approve"]).status_code == 302  # to the login page
    for other in (dave, charlie):
        browser = Client()
        browser.force_login(other)
        assert browser.post(bob_links["Approve"], {"comment": "not me"}).status_code == 403
    assert not TaskDecision.objects.exists()

    bobs = Client()
    bobs.force_login(bob)
    page = bobs.get(bob_links["Approve"])
    done = bobs.post(bob_links["Approve"], {"comment": "from the email"})
    assert page.status_code == 200 and done.status_code == 200

    assert ended(run).status == "succeeded"
    decision = TaskDecision.objects.get()
    assert (decision.user, decision.via, decision.comment) == (bob, "email_link", "from the email")
    # A second click, of either link: a clear page, and still one decision.
    assert bobs.get(bob_links["Approve"]).status_code == 410
    assert bobs.post(bob_links["Reject"], {"comment": "again"}).status_code == 410
    assert TaskDecision.objects.count() == 1


def test_the_link_of_a_delivered_email_expires_with_its_task(mailing_workers, mailbox, alice, bob):
    graph = approval_graph(
        assignees={"users": ["bob"]},
        due_in_s=3600,
        on_timeout="escalate",
        escalate_to={"groups": ["finance"]},
    )
    run = start(workflow(alice, graph), {"amount": 7}, actor=alice)
    path = link_paths(delivered_to(mailbox, "bob@example.com"))["Approve"]
    bobs = Client()
    bobs.force_login(bob)

    with time_machine.travel(timezone.now() + timedelta(seconds=3601)):
        expired = bobs.post(path, {"comment": "late"})

    assert expired.status_code == 410 and b"This link has expired" in expired.content
    assert task_of(run).is_open and not TaskDecision.objects.exists()
