"""Deciding from the email (issue 19): the assignment and reminder emails carry signed links,
bound to the task and the recipient, single-use and expiring with the task; the link opens a
confirmation page that decides only when its button is pressed. Through Django's test client
on the page, runs driven in-process, time moved with ``time_machine``; the mail is Django's
locmem outbox (tests/test_task_links_workers.py sends it through a real SMTP server)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from engine.models import RunEvent, TaskDecision, TaskLink
from tests.engine_kit import (
    approval_graph,
    drive,
    form_graph,
    start,
    statuses,
    steps,
    task_of,
    workflow,
)

# transaction=True: the emails leave after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

LINK = re.compile(r"^(Approve|Reject|Fill in the form): (\S+)$", re.M)


@pytest.fixture(autouse=True)
def _addresses(bob, dave, settings):
    settings.FLOWDECK_BASE_URL = "http://flowdeck.test"
    bob.email, dave.email = "bob@example.com", "dave@example.com"
    bob.save()
    dave.save()


def asked(owner, actor=None, input=None, graph=None, **config):
    run = start(workflow(owner, graph or approval_graph(**config)), input or {"amount": 5}, actor)
    drive()
    return run


def mail_to(address: str, index: int = -1):
    return [m for m in mail.outbox if m.to == [address]][index]


def links(message) -> dict[str, str]:
    """The links of a delivered message, as paths on the server: {"Approve": ..., ...}."""
    return {
        label: url.removeprefix("http://flowdeck.test") for label, url in LINK.findall(message.body)
    }


def client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def flip(token: str, part: int) -> str:
    """``token`` with one character of its ``part`` (0 payload, 1 timestamp, 2 signature)
    changed."""
    pieces = token.split(":")
    piece = pieces[part]
    at = len(piece) // 2
    pieces[part] = piece[:at] + ("A" if piece[at] != "A" else "B") + piece[at + 1 :]
    return ":".join(pieces)


def nothing_decided(run) -> bool:
    return not TaskDecision.objects.filter(task__run=run).exists() and task_of(run).is_open


# --- The emails ---------------------------------------------------------------------------------


def test_each_assignee_gets_an_email_of_their_own_with_approve_and_reject_links(alice, bob, dave):
    run = asked(alice)

    bobs, daves = mail_to("bob@example.com"), mail_to("dave@example.com")
    assert bobs.subject == "For you to decide: Pay 5 EUR"
    assert set(links(bobs)) == {"Approve", "Reject"}
    assert all(
        url.startswith("http://flowdeck.test/tasks/act/") for _, url in LINK.findall(bobs.body)
    )
    # Not one of bob's links is in dave's message, and the other way round.
    assert not set(links(bobs).values()) & set(links(daves).values())
    assert all(url not in daves.body for url in links(bobs).values())
    html, kind = bobs.alternatives[0]
    assert kind == "text/html" and links(bobs)["Approve"] in html
    assert TaskLink.objects.filter(task=task_of(run)).count() == 4
    # The link rows hold no token: only a hash of its nonce.
    row = TaskLink.objects.first()
    assert row.nonce_hash not in bobs.body


def test_a_requester_under_four_eyes_is_not_asked_by_email(alice, bob):
    asked(alice, actor=bob, forbid_requester=True)
    assert [m.to for m in mail.outbox] == [["dave@example.com"]]


def test_nobody_is_mailed_about_a_test_run(alice, bob):
    wf = workflow(alice, approval_graph())
    start(wf, {"amount": 5}, alice, test=True)
    drive()
    assert mail.outbox == []


def test_a_form_email_sends_users_to_the_task_in_the_app(alice, bob):
    run = asked(alice, graph=form_graph())
    assert links(mail_to("bob@example.com")) == {"Fill in the form": f"/inbox/{task_of(run).pk}"}


# --- The confirmation page ----------------------------------------------------------------------


def test_opening_a_link_shows_the_task_and_decides_nothing(alice, bob):
    run = asked(alice)
    page = client(bob).get(links(mail_to("bob@example.com"))["Approve"])

    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-page="task-link"' in text and "Pay 5 EUR" in text and 'name="comment"' in text
    assert page["Referrer-Policy"] == "same-origin" and "no-store" in page["Cache-Control"]
    assert nothing_decided(run)


def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in_and_back(alice, bob):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]

    for response in (Client().get(path), Client().post(path, {"comment": "ok"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=/tasks/act/")
    assert nothing_decided(run)


def test_the_button_approves_once_via_email_link_and_the_run_goes_on(alice, bob):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]

    done = client(bob).post(path, {"comment": "fine by me"})
    drive()

    assert done.status_code == 200 and 'data-page="task-link-done"' in done.content.decode()
    assert statuses(run)["yes"] == "succeeded"
    decision = TaskDecision.objects.get(task__run=run)
    assert (decision.user, decision.via, decision.comment) == (bob, "email_link", "fine by me")
    event = RunEvent.objects.get(run=run, type="task.decided")
    assert (event.data["via"], event.data["by"], event.actor) == ("email_link", "bob", bob)
    assert steps(run)["ask"].output["decisions"][0]["via"] == "email_link"


def test_the_page_posts_with_the_csrf_token_it_carries_even_without_a_session(alice, bob):
    run = asked(alice, assignees={"users": ["bob"]}, email_links="link")
    path = links(mail_to("bob@example.com"))["Reject"]
    browser = Client(enforce_csrf_checks=True)

    refused = browser.post(path, {"comment": "no"})
    page = browser.get(path)
    token = re.search(r'data-csrf="([^"]+)"', page.content.decode()).group(1)
    done = browser.post(path, {"comment": "no", "csrfmiddlewaretoken": token})
    drive()

    assert refused.status_code == 403
    assert done.status_code == 200
    assert statuses(run)["no"] == "succeeded"


def test_a_double_submit_is_one_decision(alice, bob):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]
    bobs = client(bob)

    first = bobs.post(path, {"comment": "ok"})
    second = bobs.post(path, {"comment": "ok"})

    assert first.status_code == second.status_code == 200
    assert "task-link-done" in second.content.decode()
    assert TaskDecision.objects.filter(task__run=run).count() == 1
    assert RunEvent.objects.filter(run=run, type="task.decided").count() == 1


def test_a_refusal_is_logged_without_the_link(alice, bob, caplog):
    asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]
    client(bob).post(path, {"comment": "x" * 10_001})

    assert "bad input" in caplog.text
    assert path.split("/")[-2] not in caplog.text


def test_a_second_click_after_the_decision_gets_410_and_changes_nothing(alice, bob):
    run = asked(alice, required_approvals=2)
    bob_links = links(mail_to("bob@example.com"))
    bobs = client(bob)
    bobs.post(bob_links["Approve"], {"comment": "ok"})

    again = bobs.get(bob_links["Approve"])
    # The reject link went with it: the recipient's links are used up together.
    other = bobs.post(bob_links["Reject"], {"comment": "changed my mind"})
    other_page = bobs.get(bob_links["Reject"])

    assert again.status_code == other.status_code == other_page.status_code == 410
    assert "This link was already used" in again.content.decode()
    assert list(TaskDecision.objects.values_list("decision", flat=True)) == ["approve"]
    assert task_of(run).is_open  # waits for a second approval


def test_a_forwarded_link_opened_by_someone_else_is_refused(alice, bob, dave, charlie):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]

    for other in (dave, charlie):
        page = client(other).get(path)
        post = client(other).post(path, {"comment": "as bob"})
        assert page.status_code == post.status_code == 403
        assert "This link was sent to bob" in page.content.decode()
    assert nothing_decided(run)


def test_a_forwarded_link_is_refused_to_someone_else_logged_in_even_where_links_suffice(
    alice, bob, dave
):
    run = asked(alice, email_links="link")
    path = links(mail_to("bob@example.com"))["Approve"]

    assert client(dave).post(path, {"comment": "as bob"}).status_code == 403
    assert nothing_decided(run)


@pytest.mark.parametrize("part", [0, 1, 2], ids=["payload", "timestamp", "signature"])
def test_tampering_with_any_part_of_the_link_is_refused_with_400(alice, bob, part):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]
    token = path.split("/")[-2]
    bad = path.replace(token, flip(token, part))

    page, post = client(bob).get(bad), client(bob).post(bad, {"comment": "x"})

    assert page.status_code == post.status_code == 400
    assert "This link is not valid" in page.content.decode()
    assert nothing_decided(run)


def test_a_link_for_one_task_cannot_be_spliced_onto_another(alice, bob):
    asked(alice)
    run = asked(alice)
    first, second = (links(m)["Approve"] for m in mail.outbox if m.to == ["bob@example.com"])
    payload = first.split("/")[-2].split(":")[0]
    _, stamp, signature = second.split("/")[-2].split(":")

    response = client(bob).get(f"/tasks/act/{payload}:{stamp}:{signature}/")

    assert response.status_code == 400
    assert nothing_decided(run)


def test_a_link_past_the_due_time_has_expired(alice, bob):
    run = asked(alice, due_in_s=3600, on_timeout="escalate", escalate_to={"groups": ["finance"]})
    path = links(mail_to("bob@example.com"))["Approve"]

    with time_machine.travel(timezone.now() + timedelta(seconds=3601)):
        page, post = client(bob).get(path), client(bob).post(path, {"comment": "late"})

    assert page.status_code == post.status_code == 410
    assert "This link has expired" in page.content.decode()
    assert nothing_decided(run)


def test_an_escalation_moves_the_links_end_to_its_own_due_time(alice, bob):
    run = asked(
        alice,
        due_in_s=3600,
        on_timeout="escalate",
        escalate_to={"groups": ["finance"], "due_in_s": 7200},
    )
    path = links(mail_to("bob@example.com"))["Approve"]
    later = timezone.now() + timedelta(seconds=3601)
    drive(later)  # the escalation

    with time_machine.travel(later + timedelta(seconds=60)):
        assert client(bob).get(path).status_code == 200
    with time_machine.travel(later + timedelta(seconds=7201)):
        assert client(bob).get(path).status_code == 410
    assert task_of(run).escalation_level == 1


def test_a_link_of_a_task_without_due_time_expires_after_the_maximum_age(alice, bob, settings):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Approve"]
    max_age = settings.FLOWDECK_TASK_LINK_MAX_AGE_S

    with time_machine.travel(timezone.now() + timedelta(seconds=max_age - 60)):
        assert client(bob).get(path).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(seconds=max_age + 1)):
        assert client(bob).post(path, {"comment": "late"}).status_code == 410
    assert nothing_decided(run)


def test_a_task_someone_else_closed_makes_the_link_say_so(alice, bob, dave):
    run = asked(alice)
    path = links(mail_to("bob@example.com"))["Reject"]
    client(dave).post(links(mail_to("dave@example.com"))["Approve"], {"comment": "paid"})

    page, post = client(bob).get(path), client(bob).post(path, {"comment": "no"})

    assert page.status_code == post.status_code == 410
    assert "This task is closed" in page.content.decode()
    assert list(TaskDecision.objects.filter(task__run=run).values_list("user__username")) == [
        ("dave",)
    ]


def test_a_link_of_someone_who_handed_the_task_over_no_longer_works(alice, bob, charlie):
    run = asked(alice, assignees={"users": ["bob"]})
    path = links(mail_to("bob@example.com"))["Approve"]
    from engine import transitions

    transitions.do_delegate(task_of(run).pk, actor=bob, to="charlie")

    assert client(bob).post(path, {"comment": "ok"}).status_code == 403
    assert nothing_decided(run)


def test_the_delegate_gets_an_email_with_links_of_their_own_that_decide(alice, bob, charlie):
    charlie.email = "charlie@example.com"
    charlie.save()
    run = asked(alice, assignees={"users": ["bob"]})
    from engine import transitions

    transitions.do_delegate(task_of(run).pk, actor=bob, to="charlie", comment="I am away")

    message = mail_to("charlie@example.com")
    assert message.subject == "Handed to you: Pay 5 EUR"
    assert "bob handed this task to you: “I am away”" in message.body
    assert client(charlie).post(links(message)["Approve"], {"comment": ""}).status_code == 200
    assert statuses(run)["ask"] == "succeeded"


def test_a_decision_in_the_inbox_first_makes_the_link_say_so(alice, bob):
    run = asked(alice, required_approvals=2)
    path = links(mail_to("bob@example.com"))["Approve"]
    from engine import transitions

    transitions.do_decide(task_of(run).pk, actor=bob, decision="approve")

    page = client(bob).get(path)
    assert page.status_code == 410 and "You already decided" in page.content.decode()


def test_where_links_suffice_a_visitor_decides_as_the_recipient(alice, bob):
    run = asked(alice, assignees={"users": ["bob"]}, email_links="link")

    Client().post(links(mail_to("bob@example.com"))["Approve"], {"comment": "from my phone"})
    drive()

    assert statuses(run)["yes"] == "succeeded"
    assert steps(run)["ask"].output["decided_by"] == "bob"


def test_a_reminder_brings_new_links_and_the_first_ones_still_work_until_one_is_used(alice, bob):
    run = asked(alice, assignees={"users": ["bob"]}, reminder_every_s=300)
    first = links(mail_to("bob@example.com"))
    drive(timezone.now() + timedelta(seconds=301))
    reminder = mail_to("bob@example.com")
    second = links(reminder)

    assert reminder.subject == "Reminder: Pay 5 EUR" and second != first
    assert client(bob).get(first["Approve"]).status_code == 200
    assert client(bob).post(second["Reject"], {"comment": "no"}).status_code == 200
    assert client(bob).get(first["Approve"]).status_code == 410
    drive()
    assert statuses(run)["no"] == "succeeded"


# --- Email-only assignees (assignees.emails, email_links "link") --------------------------------


def test_an_email_only_assignee_decides_through_the_link_without_an_account(alice, bob):
    run = asked(
        alice, assignees={"emails": ["Ann@Example.com"]}, email_links="link", required_approvals=1
    )
    ann = links(mail_to("ann@example.com"))

    page = Client().get(ann["Approve"])
    done = Client().post(ann["Approve"], {"comment": "approved by ann"})
    drive()

    assert page.status_code == 200 and "Sent to ann@example.com" not in page.content.decode()
    assert 'data-recipient="ann@example.com"' in page.content.decode()
    assert done.status_code == 200
    decision = TaskDecision.objects.get(task__run=run)
    assert (decision.user, decision.email, decision.via) == (None, "ann@example.com", "email_link")
    assert steps(run)["ask"].output["decided_by"] == "ann@example.com"
    event = RunEvent.objects.get(run=run, type="task.decided")
    assert (event.actor, event.data["by"]) == (None, "ann@example.com")
    assert Client().get(ann["Reject"]).status_code == 410


def test_an_email_only_assignee_still_to_decide_keeps_a_rejection_from_settling_it(alice, bob):
    run = asked(
        alice,
        assignees={"users": ["bob"], "emails": ["ann@example.com"]},
        email_links="link",
        reject_on_first_rejection=False,
    )
    client(bob).post(links(mail_to("bob@example.com"))["Reject"], {"comment": "no"})
    assert task_of(run).is_open  # ann may still approve

    Client().post(links(mail_to("ann@example.com"))["Approve"], {"comment": "yes"})
    drive()
    assert statuses(run)["yes"] == "succeeded"


def test_an_email_only_assignee_fills_a_form_page_checked_by_the_schema(alice, bob):
    graph = form_graph(assignees={"emails": ["ann@example.com"]}, email_links="link")
    run = asked(alice, graph=graph)
    path = links(mail_to("ann@example.com"))["Fill in the form"]

    page = Client().get(path)
    short = Client().post(path, {"iban": "DE1", "comment": ""})
    done = Client().post(path, {"iban": "DE12345", "note": "thanks"})
    drive()

    assert page.status_code == 200 and 'name="iban"' in page.content.decode()
    assert short.status_code == 400 and "too short" in short.content.decode()
    assert done.status_code == 200
    assert steps(run)["ask"].output["data"] == {"iban": "DE12345", "note": "thanks"}
    assert steps(run)["ask"].output["submitted_by"] == "ann@example.com"
    assert statuses(run)["after"] == "succeeded"


def test_a_run_cannot_ask_addresses_whose_links_need_a_login(alice):
    graph = approval_graph(assignees={"emails": ["ann@example.com"]}, email_links="link")
    graph["nodes"][1]["config"]["email_links"] = "login"
    from designer.validation import validate_graph

    [error] = validate_graph(graph)
    assert (error["node"], error["field"], error["code"]) == (
        "ask",
        "config.email_links",
        "email_links_login",
    )
