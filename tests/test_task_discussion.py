"""A task's discussion (issue 19, item 6): comments in threads with @mentions that email, files
attached and downloaded, and approvals that require a comment to reject; through DRF's client,
runs driven in-process."""

import hashlib

import pytest
from django.conf import settings
from django.core import mail

from designer.models import Role, WorkflowGrant
from engine.discussion import mentioned_names
from engine.models import RunEvent, TaskAttachment
from tests.discussion_kit import EXECUTABLE, HTML, SVG, png_bytes, upload
from tests.engine_kit import approval_graph, drive, start, statuses, task_of, workflow
from tests.helpers import free_port
from tests.smtp_server import smtp_server

# The test server takes a login over plain text (it has no certificate), and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    """Attachments go to a folder of the test's own (Django resets default_storage when
    STORAGES changes)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


def asked(owner, graph=None):
    run = start(workflow(owner, graph or approval_graph()), {"amount": 5}, actor=owner)
    drive()
    return run


def url(task, part, item=None):
    return f"/api/approvals/{task.pk}/{part}/" + (f"{item}/" if item is not None else "")


def as_user(api, user):
    api.force_authenticate(user)
    return api


def comment(api, task, body, parent=None):
    data = {"body": body} if parent is None else {"body": body, "parent": parent}
    return api.post(url(task, "comments"), data, format="json")


def attach(api, task, name, content, content_type="application/octet-stream"):
    return api.post(
        url(task, "attachments"), {"file": upload(name, content, content_type)}, format="multipart"
    )


def close(api, task, user):
    as_user(api, user).post(
        f"/api/approvals/{task.pk}/decide/", {"decision": "approve"}, format="json"
    )


# --- Who -----------------------------------------------------------------------------------------


def test_every_discussion_endpoint_needs_login(api):
    assert api.get("/api/approvals/1/comments/").status_code == 401
    assert api.post("/api/approvals/1/comments/", {"body": "x"}).status_code == 401
    assert api.get("/api/approvals/1/attachments/").status_code == 401
    assert api.get("/api/approvals/1/attachments/1/").status_code == 401


def test_an_assignee_comments_and_everyone_who_sees_the_task_reads_it(api, alice, bob, charlie):
    task = task_of(asked(alice))

    posted = comment(as_user(api, bob), task, "Is the invoice attached?")

    assert posted.status_code == 201
    assert posted.json() == {
        "id": posted.json()["id"],
        "author": "bob",
        "parent": None,
        "body": "Is the invoice attached?",
        "mentions": [],
        "created_at": posted.json()["created_at"],
    }
    listed = as_user(api, alice).get(url(task, "comments")).json()  # the owner reads along
    assert [c["body"] for c in listed["comments"]] == ["Is the invoice attached?"]
    assert listed["can_comment"] is True  # the owner is an editor of her workflow
    assert as_user(api, charlie).get(url(task, "comments")).status_code == 404
    assert comment(api, task, "let me in").status_code == 404


def test_a_viewer_of_the_workflow_reads_the_discussion_but_may_not_write(api, alice, bob, charlie):
    task = task_of(asked(alice))
    WorkflowGrant.objects.create(workflow=task.run.workflow, user=charlie, role=Role.VIEWER)
    comment(as_user(api, bob), task, "Looks fine")
    as_user(api, charlie)

    listed = api.get(url(task, "comments")).json()
    refused = comment(api, task, "me too")

    assert [c["body"] for c in listed["comments"]] == ["Looks fine"]
    assert listed["can_comment"] is False
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "not_participant"
    files = api.get(url(task, "attachments")).json()
    assert (files["can_attach"], attach(api, task, "a.txt", b"hi").status_code) == (False, 403)


def test_an_editor_of_the_workflow_may_comment_without_being_asked(api, alice, bob, charlie):
    task = task_of(asked(alice))
    WorkflowGrant.objects.create(workflow=task.run.workflow, user=charlie, role=Role.EDITOR)

    assert comment(as_user(api, charlie), task, "The limit is 1000 EUR").status_code == 201


def test_an_approver_of_n_may_still_comment_after_deciding(api, alice, bob, dave):
    task = task_of(asked(alice, approval_graph(required_approvals=2)))
    as_user(api, bob).post(
        f"/api/approvals/{task.pk}/decide/", {"decision": "approve"}, format="json"
    )

    assert comment(api, task, "Approved; dave, your turn").status_code == 201


def test_a_closed_task_keeps_its_discussion_read_only(api, alice, bob):
    task = task_of(asked(alice))
    comment(as_user(api, bob), task, "Checking")
    close(api, task, bob)

    refused = comment(api, task, "Done")
    refused_file = attach(api, task, "note.txt", b"late")

    assert refused.status_code == 409
    assert refused.json()["errors"][0]["code"] == "task_closed"
    assert refused_file.status_code == 409
    listed = api.get(url(task, "comments")).json()
    assert ([c["body"] for c in listed["comments"]], listed["can_comment"]) == (["Checking"], False)


# --- Comments and threads ------------------------------------------------------------------------


def test_a_reply_to_a_reply_joins_the_thread_of_the_first_comment(api, alice, bob, dave):
    task = task_of(asked(alice))
    first = comment(as_user(api, bob), task, "Which cost centre?").json()
    reply = comment(as_user(api, dave), task, "4711", parent=first["id"]).json()

    again = comment(as_user(api, bob), task, "Thanks", parent=reply["id"]).json()

    assert (reply["parent"], again["parent"]) == (first["id"], first["id"])
    listed = api.get(url(task, "comments")).json()["comments"]
    assert [(c["body"], c["parent"]) for c in listed] == [
        ("Which cost centre?", None),
        ("4711", first["id"]),
        ("Thanks", first["id"]),
    ]


def test_bad_comments_get_400_naming_the_field(api, alice, bob):
    task = task_of(asked(alice))
    other = task_of(asked(alice))
    elsewhere = comment(as_user(api, bob), other, "on another task").json()

    cases = {
        "body": [{}, {"body": "   "}, {"body": "x" * 10_001}, {"body": 5 * [1]}],
        "parent": [{"body": "hi", "parent": elsewhere["id"]}, {"body": "hi", "parent": "x"}],
    }
    for field, bodies in cases.items():
        for data in bodies:
            response = api.post(url(task, "comments"), data, format="json")
            assert response.status_code == 400, data
            assert response.json()["errors"][0]["field"] == field, data
    assert api.get(url(task, "comments")).json()["comments"] == []


def test_a_comment_is_in_the_run_history_without_its_body(api, alice, bob, dave):
    task = task_of(asked(alice))

    posted = comment(as_user(api, bob), task, "Ask @dave about it").json()

    event = RunEvent.objects.filter(run=task.run, type="task.commented").get()
    assert event.actor == bob
    assert event.node_id == "ask"
    assert event.data == {
        "task": task.pk,
        "kind": "approval",
        "status": "open",
        "comment": posted["id"],
        "parent": None,
        "length": len("Ask @dave about it"),
        "mentions": ["dave"],
    }


# --- Mentions ------------------------------------------------------------------------------------


def test_a_mention_emails_who_may_see_the_task_and_no_one_else(
    api, alice, bob, dave, charlie, django_capture_on_commit_callbacks
):
    for user in (dave, charlie, bob):
        user.email = f"{user.username}@example.com"
        user.save()
    task = task_of(asked(alice))

    with django_capture_on_commit_callbacks(execute=True):
        posted = comment(as_user(api, bob), task, "@dave, @charlie and @bob: see the limit.")

    # charlie may not see the task: his name stays text, and he learns nothing of it.
    assert posted.json()["mentions"] == ["dave"]
    assert [m.to for m in mail.outbox] == [["dave@example.com"]]
    sent = mail.outbox[0]
    assert sent.subject == "bob mentioned you: Pay 5 EUR"
    assert "> @dave, @charlie and @bob: see the limit." in sent.body
    # The app's address (FLOWDECK_BASE_URL), as in task emails: not the request's Host.
    assert f"{settings.FLOWDECK_BASE_URL}/inbox/{task.pk}" in sent.body


def test_a_mention_of_the_workflow_owner_reaches_her_and_an_address_is_no_mention(
    api, alice, bob, django_capture_on_commit_callbacks
):
    alice.email = "alice@example.com"
    alice.save()
    task = task_of(asked(alice))

    with django_capture_on_commit_callbacks(execute=True):
        posted = comment(as_user(api, bob), task, "Mail bob@example.com or ask @alice.")

    assert posted.json()["mentions"] == ["alice"]
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]


@pytest.fixture
def smtp(settings):
    controller, mailbox = smtp_server(free_port(), login=("mailer", "smtp-pw-31d6"))
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "mailer", "smtp-pw-31d6"
    settings.EMAIL_USE_TLS = False
    yield mailbox
    controller.stop()


def test_a_mention_is_mailed_through_a_real_smtp_server(
    api, alice, bob, dave, smtp, django_capture_on_commit_callbacks
):
    dave.email = "dave@example.com"
    dave.save()
    task = task_of(asked(alice))

    with django_capture_on_commit_callbacks(execute=True):
        comment(as_user(api, bob), task, "@dave can you check the IBAN?")

    assert len(smtp.messages) == 1
    sender, recipients, message = smtp.messages[0]
    assert (sender, recipients) == ("flowdeck@localhost", ["dave@example.com"])
    assert message["Subject"] == "bob mentioned you: Pay 5 EUR"
    assert "> @dave can you check the IBAN?" in message.get_payload(decode=True).decode()


# --- Attachments ---------------------------------------------------------------------------------


def test_a_png_is_attached_listed_and_downloaded_by_who_may_see_the_task(api, alice, bob, charlie):
    task = task_of(asked(alice))
    picture = png_bytes()

    posted = attach(as_user(api, bob), task, "../../receipt scan.png", picture, "image/png")

    assert posted.status_code == 201
    item = posted.json()
    assert item == {
        "id": item["id"],
        "name": "receipt scan.png",
        "content_type": "image/png",
        "size": len(picture),
        "sha256": hashlib.sha256(picture).hexdigest(),
        "uploader": "bob",
        "created_at": item["created_at"],
        "url": f"/api/approvals/{task.pk}/attachments/{item['id']}/",
    }
    stored = TaskAttachment.objects.get().file.name
    assert stored.startswith(f"attachments/{task.pk}/") and "receipt" not in stored
    listed = api.get(url(task, "attachments")).json()
    assert [a["id"] for a in listed["attachments"]] == [item["id"]]
    assert (listed["can_attach"], listed["max_bytes"]) == (True, 10 * 1024 * 1024)

    download = api.get(item["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == picture
    assert download["Content-Type"] == "image/png"
    assert download["Content-Disposition"] == 'attachment; filename="receipt scan.png"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Security-Policy"].startswith("default-src 'none'; sandbox")
    assert as_user(api, charlie).get(item["url"]).status_code == 404
    assert api.get(url(task, "attachments")).status_code == 404


def test_the_attachment_is_in_the_run_history(api, alice, bob):
    task = task_of(asked(alice))

    item = attach(as_user(api, bob), task, "notes.csv", b"iban,amount\nDE89,5\n").json()

    event = RunEvent.objects.filter(run=task.run, type="task.attachment_added").get()
    assert event.actor == bob
    assert {k: event.data[k] for k in ("attachment", "name", "content_type", "size")} == {
        "attachment": item["id"],
        "name": "notes.csv",
        "content_type": "text/plain; charset=utf-8",
        "size": 19,
    }


@pytest.mark.parametrize(
    ("name", "content", "claimed"),
    [
        ("invoice.pdf", EXECUTABLE, "application/pdf"),  # an executable in disguise
        ("logo.svg", SVG, "image/svg+xml"),
        ("logo.png", SVG, "image/png"),
        ("page.txt", HTML, "text/plain"),
        ("data.bin", b"\x00\x01\x02\x03binary", "application/octet-stream"),
        ("latin1.txt", "café".encode("latin-1"), "text/plain"),
    ],
)
def test_a_file_whose_bytes_are_not_an_allowed_type_is_refused(
    api, alice, bob, name, content, claimed
):
    task = task_of(asked(alice))

    response = attach(as_user(api, bob), task, name, content, claimed)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("file", "type_not_allowed")
    assert TaskAttachment.objects.count() == 0


def test_a_file_over_the_limit_gets_413(api, alice, bob, settings, tmp_path):
    settings.FLOWDECK_ATTACHMENT_MAX_BYTES = 100
    task = task_of(asked(alice))
    as_user(api, bob)

    small_but_over = attach(api, task, "a.txt", b"x" * 101)
    refused_early = attach(api, task, "b.txt", b"x" * 200_000)  # by its Content-Length

    for response in (small_but_over, refused_early):
        assert response.status_code == 413
        assert response.json()["errors"][0]["code"] == "too_large"
    assert attach(api, task, "c.txt", b"x" * 100).status_code == 201
    assert len(list((tmp_path / "media" / "attachments" / str(task.pk)).iterdir())) == 1


def test_an_attachment_request_without_a_file_gets_400(api, alice, bob):
    task = task_of(asked(alice))

    response = as_user(api, bob).post(url(task, "attachments"), {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"


def test_an_attachment_of_another_task_is_404(api, alice, bob):
    task, other = task_of(asked(alice)), task_of(asked(alice))
    item = attach(as_user(api, bob), task, "a.txt", b"hello").json()

    assert api.get(url(other, "attachments", item["id"])).status_code == 404
    assert api.get(url(task, "attachments", "x")).status_code == 404
    assert api.get(url(task, "attachments", item["id"])).status_code == 200


# --- Require a comment on reject -----------------------------------------------------------------


def test_a_reject_without_a_comment_is_refused_when_the_approval_requires_one(api, alice, bob):
    run = asked(alice, approval_graph(require_comment_on_reject=True))
    task = task_of(run)
    as_user(api, bob)
    decide = f"/api/approvals/{task.pk}/decide/"

    assert api.get(f"/api/approvals/{task.pk}/").json()["policy"]["require_comment_on_reject"]
    for body in ({"decision": "reject"}, {"decision": "reject", "comment": "  \n "}):
        response = api.post(decide, body, format="json")
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert (error["field"], error["code"]) == ("comment", "required")
    response = api.post(decide, {"decision": "reject", "comment": "Wrong IBAN"}, format="json")

    assert response.status_code == 200
    drive()
    assert statuses(run)["no"] == "succeeded"
    assert task_of(run).result["comment"] == "Wrong IBAN"


def test_an_approval_needs_no_comment_even_when_a_reject_would(api, alice, bob):
    run = asked(alice, approval_graph(require_comment_on_reject=True))

    response = as_user(api, bob).post(
        f"/api/approvals/{task_of(run).pk}/decide/", {"decision": "approve"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "approved"


def test_without_the_flag_a_reject_needs_no_comment(api, alice, bob):
    run = asked(alice)

    response = as_user(api, bob).post(
        f"/api/approvals/{task_of(run).pk}/decide/", {"decision": "reject"}, format="json"
    )

    assert (response.status_code, response.json()["status"]) == (200, "rejected")


def test_mentions_are_read_from_the_body_by_username():
    assert mentioned_names("hi @bob. and @dave-, not a@b.com; @bob again @x.y") == [
        "bob",
        "dave",
        "x.y",
    ]
