"""notify.email: sends one email, through Django's configured backend (here pytest-django's
locmem backend, ``mail.outbox``) or through an SMTP credential's server (here a real aiosmtpd
server on 127.0.0.1, with a login)."""

import json

import pytest
from django.core import mail

from connectors.credentials import do_create_credential
from engine.models import Run
from engine.steps.base import StepContext
from engine.steps.notify import Email, text_of_html
from tests.engine_kit import build, drive, event_types, start, steps, workflow
from tests.helpers import free_port, wait_until
from tests.smtp_server import smtp_server

PASSWORD = "smtp-pw-7c41e9d2b0"

# The test server takes a login over plain text (it has no certificate), and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def mail_graph(retry: dict | None = None, **config) -> dict:
    """``start > total > mail``: ``total`` is an upstream step whose output mails may use."""
    config = {"to": ["ann@example.com"], "subject": "Hello", "body": "Hi.", **config}
    node = {"type": "notify.email", "config": config}
    if retry:
        node["retry"] = retry
    return build(
        {
            "start": ("trigger.manual",),
            "total": ("data.transform", {"value": {"amount": "{{ input.amount * 2 }}"}}),
            "mail": node,
        },
        ["start>total", "total>mail"],
    )


def send(owner, input: dict | None = None, retry: dict | None = None, **config) -> Run:
    run = start(workflow(owner, mail_graph(retry, **config)), input or {"amount": 21})
    drive()
    return run


# --- Through Django's configured backend ---------------------------------------------------------


def test_an_email_goes_out_with_what_its_templates_render_from_input_and_upstream_steps(alice):
    run = send(
        alice,
        {"amount": 21, "number": "F-7", "team": ["ann@example.com", "bo@example.com"]},
        to="{{ input.team }}",
        cc=["carla@example.com"],
        bcc=["audit@example.com", "{{ 'archive' }}@example.com"],
        subject="Invoice {{ input.number }}",
        body="Total: {{ steps.total.output.amount }} EUR",
    )

    sent = mail.outbox[0]
    assert (sent.subject, sent.body) == ("Invoice F-7", "Total: 42 EUR")
    assert sent.to == ["ann@example.com", "bo@example.com"]
    assert sent.cc == ["carla@example.com"]
    assert sent.bcc == ["audit@example.com", "archive@example.com"]
    assert sent.from_email == "flowdeck@localhost"  # DEFAULT_FROM_EMAIL
    assert "Bcc" not in sent.message()
    mail_step = steps(run)["mail"]
    assert mail_step.status == "succeeded"
    assert mail_step.input["to"] == ["ann@example.com", "bo@example.com"]
    output = mail_step.output
    assert output["message_id"] == sent.message()["Message-ID"]
    assert output["sent_at"]
    assert {k: v for k, v in output.items() if k not in ("message_id", "sent_at")} == {
        "from": "flowdeck@localhost",
        "to": ["ann@example.com", "bo@example.com"],
        "cc": ["carla@example.com"],
        "bcc": 2,  # a count: the output does not repeat who was blind-copied
        "subject": "Invoice F-7",
    }


def test_a_template_yielding_one_address_sends_to_it(alice):
    send(alice, {"amount": 1, "boss": "dora@example.com"}, to="{{ input.boss }}")

    assert mail.outbox[0].to == ["dora@example.com"]


def test_an_html_body_goes_out_with_a_plain_text_alternative_derived_from_it(alice):
    html = (
        "<h1>Invoice {{ input.amount }}</h1><p>Please pay "
        '<a href="https://pay.example.com/{{ input.amount }}">online</a>.</p>'
        "<ul><li>desk</li><li>chair</li></ul>"
    )
    send(alice, {"amount": 21}, body=html, html=True)

    sent = mail.outbox[0]
    assert sent.alternatives == [
        (
            '<h1>Invoice 21</h1><p>Please pay <a href="https://pay.example.com/21">online</a>.'
            "</p><ul><li>desk</li><li>chair</li></ul>",
            "text/html",
        )
    ]
    assert (
        sent.body
        == "Invoice 21\n\nPlease pay online (https://pay.example.com/21).\n\n- desk\n- chair"
    )
    assert sent.message().get_content_type() == "multipart/alternative"


def test_the_plain_text_of_html_keeps_the_structure_and_drops_what_is_not_read():
    html = (
        "<html><head><title>t</title><style>p {color: red}</style></head><body>"
        "<p>Dear   <b>Ann</b>,<br>write to <a href='mailto:a@example.com'>a@example.com</a>"
        " or <a href='#top'>top</a>.</p><ol><li>one</li><li>two</li></ol>"
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>"
        "<p>&amp; bye &lt;3</p><script>alert(1)</script></body></html>"
    )

    assert text_of_html(html) == (
        "Dear Ann,\nwrite to a@example.com or top.\n\n1. one\n2. two\n\na  b\nc  d\n\n& bye <3"
    )


def test_replies_go_to_reply_to(alice):
    send(alice, reply_to="{{ 'billing' }}@example.com")

    sent = mail.outbox[0]
    assert sent.reply_to == ["billing@example.com"]
    assert sent.message()["Reply-To"] == "billing@example.com"


def test_a_subject_rendered_over_several_lines_goes_out_on_one(alice):
    send(alice, {"amount": 1, "who": "Ann\nand Bo\n"}, subject="For {{ input.who }}")

    assert mail.outbox[0].subject == "For Ann and Bo"


def test_the_message_id_is_the_same_whenever_the_step_sends_the_same_message_again(alice):
    def message_id_of(run_id: int, attempt: int, body: str = "Hi.") -> str:
        config = {"to": ["ann@example.com"], "subject": "Hello", "body": body}
        ctx = StepContext(run_id=run_id, node_id="mail", attempt=attempt, config=config, scope={})
        return Email().run(ctx).output["message_id"]

    ids = [
        message_id_of(7, attempt=1),
        message_id_of(7, attempt=2),  # a retry resends the same message
        message_id_of(8, attempt=1),  # another run's mail is another message
        message_id_of(7, attempt=2, body="Hi again."),  # so is an edited one
    ]

    assert ids[1] == ids[0]
    assert len({ids[0], ids[2], ids[3]}) == 3
    assert ids[0].startswith("<") and ids[0].endswith(".flowdeck@localhost>")
    assert [sent.message()["Message-ID"] for sent in mail.outbox] == ids


@pytest.mark.parametrize(
    ("config", "field", "code", "shown"),
    [
        ({"to": "{{ input.team }}"}, "config.to.1", "invalid_address", "'not-an-address'"),
        ({"cc": "{{ input.boss }}"}, "config.cc", "invalid_address", "'dora@'"),
        ({"bcc": ["ok@example.com", "{{ input.boss }}"]}, "config.bcc.1", "invalid_address", ""),
        ({"reply_to": "{{ input.boss }}"}, "config.reply_to", "invalid_address", "'dora@'"),
        ({"to": "{{ input.nobody }}"}, "config.to", "no_recipients", ""),
        ({"to": "{{ input.amount }}"}, "config.to", "invalid_type", ""),
        ({"to": "{{ input.crowd }}"}, "config.to", "too_many_recipients", "51 addresses"),
    ],
    ids=["to", "cc", "bcc", "reply_to", "empty", "number", "too-many"],
)
def test_a_bad_address_once_rendered_fails_the_step_for_good_naming_the_field(
    alice, config, field, code, shown
):
    people = {
        "amount": 3,
        "team": ["ann@example.com", "not-an-address"],
        "boss": "dora@",
        "nobody": [],
        "crowd": [f"p{i}@example.com" for i in range(51)],
    }
    run = send(alice, people, retry={"max_attempts": 3, "backoff_s": 0}, **config)

    mail_step = steps(run)["mail"]
    assert (mail_step.status, mail_step.attempt) == ("failed", 1)
    assert mail_step.error["code"] == code
    assert mail_step.error["field"] == field
    assert mail_step.error["retryable"] is False
    assert mail_step.error["message"].startswith(f"{field}: ")
    assert shown in mail_step.error["message"]
    assert mail.outbox == []


# --- Through an SMTP credential: a real server on 127.0.0.1 -------------------------------------


@pytest.fixture
def smtp():
    controller, mailbox = smtp_server(free_port(), login=("mailer", PASSWORD))
    mailbox.port = controller.port
    yield mailbox
    controller.stop()


# A blocking step runs in a thread with a database connection of its own, which sees only what
# was committed: the credential it opens must be.
committed = pytest.mark.django_db(transaction=True)


def smtp_credential(owner, port: int, password: str = PASSWORD, name: str = "mailer"):
    return do_create_credential(
        actor=owner,
        name=name,
        kind="smtp",
        data={
            "host": "127.0.0.1",
            "port": port,
            "username": "mailer",
            "security": "none",
            "from_email": "billing@example.com",
            "password": password,
        },
    )


@committed
def test_an_smtp_credential_sends_through_its_server_with_its_login_and_from_address(alice, smtp):
    smtp_credential(alice, smtp.port)

    run = send(
        alice,
        to=["ann@example.com"],
        cc=["carla@example.com"],
        bcc=["audit@example.com"],
        reply_to="help@example.com",
        credential="mailer",
    )

    mail_step = steps(run)["mail"]
    assert mail_step.status == "succeeded", mail_step.error
    [(mail_from, rcpt_tos, message)] = smtp.messages
    assert smtp.logins == ["mailer"]
    assert mail_from == "billing@example.com"
    assert rcpt_tos == ["ann@example.com", "carla@example.com", "audit@example.com"]
    assert (message["To"], message["Cc"], message["Bcc"]) == (
        "ann@example.com",
        "carla@example.com",
        None,
    )
    assert message["Reply-To"] == "help@example.com"
    assert message["Message-ID"] == mail_step.output["message_id"]
    assert message["Message-ID"].endswith(".flowdeck@example.com>")
    assert mail_step.output["from"] == "billing@example.com"
    assert mail.outbox == []  # not through Django's configured backend


def test_without_a_credential_the_smtp_server_of_the_settings_is_used(alice, smtp, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp.port
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "mailer", PASSWORD
    settings.EMAIL_USE_TLS = False

    run = send(alice, to=["ann@example.com", "nobody@example.com"])

    mail_step = steps(run)["mail"]
    assert mail_step.status == "succeeded", mail_step.error
    [(mail_from, rcpt_tos, _)] = smtp.messages
    assert (smtp.logins, mail_from, rcpt_tos) == (
        ["mailer"],
        "flowdeck@localhost",
        ["ann@example.com"],
    )
    assert mail_step.output["refused"] == {"nobody@example.com": "550 5.1.1 no such user here"}


@committed
def test_a_refused_login_fails_for_good_without_the_password_in_the_error(alice, smtp):
    smtp_credential(alice, smtp.port, password="wrong-pw-5d0e")

    run = send(alice, credential="mailer", retry={"max_attempts": 3, "backoff_s": 0})

    mail_step = steps(run)["mail"]
    assert (mail_step.status, mail_step.attempt) == ("failed", 1)
    assert mail_step.error["code"] == "smtp_auth_failed"
    assert mail_step.error["retryable"] is False
    assert mail_step.error["message"].startswith(
        f"the SMTP server 127.0.0.1:{smtp.port} refused the login of 'mailer': 535"
    )
    assert "wrong-pw-5d0e" not in json.dumps([mail_step.error, mail_step.input])
    assert smtp.messages == []


@committed
def test_every_recipient_refused_with_550_fails_for_good_naming_them(alice, smtp):
    smtp_credential(alice, smtp.port)

    run = send(
        alice,
        to=["nobody@example.com"],
        credential="mailer",
        retry={"max_attempts": 3, "backoff_s": 0},
    )

    mail_step = steps(run)["mail"]
    assert (mail_step.status, mail_step.attempt) == ("failed", 1)
    assert mail_step.error == {
        "message": (
            f"the SMTP server 127.0.0.1:{smtp.port} refused every recipient: "
            "nobody@example.com (550 5.1.1 no such user here)"
        ),
        "code": "recipients_refused",
        "retryable": False,
    }


@committed
def test_a_recipient_deferred_with_451_is_retried(alice, smtp):
    smtp_credential(alice, smtp.port)

    run = send(
        alice,
        to=["busy@example.com"],
        credential="mailer",
        retry={"max_attempts": 2, "backoff_s": 0, "jitter": False},
    )
    drive(now=steps(run)["mail"].wake_at)

    mail_step = steps(run)["mail"]
    assert (mail_step.status, mail_step.attempt) == ("failed", 2)
    assert mail_step.error["code"] == "recipients_refused"
    assert mail_step.error["retryable"] is True
    assert event_types(run).count("step.retrying:mail") == 1


@committed
def test_a_recipient_refused_among_accepted_ones_is_named_in_the_output(alice, smtp):
    smtp_credential(alice, smtp.port)

    run = send(alice, to=["ann@example.com", "nobody@example.com"], credential="mailer")

    mail_step = steps(run)["mail"]
    assert mail_step.status == "succeeded"
    assert mail_step.output["refused"] == {"nobody@example.com": "550 5.1.1 no such user here"}
    assert smtp.messages[0][1] == ["ann@example.com"]


@committed
def test_a_message_deferred_at_data_is_sent_again_with_the_same_message_id(alice, smtp):
    smtp_credential(alice, smtp.port)

    run = send(
        alice,
        subject="flaky",
        credential="mailer",
        retry={"max_attempts": 3, "backoff_s": 0, "jitter": False},
    )
    assert steps(run)["mail"].status == "retrying"
    drive(now=steps(run)["mail"].wake_at)

    mail_step = steps(run)["mail"]
    assert (mail_step.status, mail_step.attempt) == ("succeeded", 2)
    [deferred] = smtp.deferred
    [(_, _, delivered)] = smtp.messages
    assert deferred["Message-ID"] == delivered["Message-ID"] == mail_step.output["message_id"]


# --- Through real worker processes ---------------------------------------------------------------


def run_of(run: Run) -> Run:
    return Run.objects.get(pk=run.pk)


def finished(run: Run) -> Run | None:
    fresh = run_of(run)
    return fresh if fresh.status in ("succeeded", "failed", "cancelled") else None


def assert_password_nowhere(run: Run, workers) -> None:
    """The SMTP password is in none of what a run records or a worker logs."""
    recorded = [(s.input, s.output, s.error, s.state) for s in run.steps.all()] + [
        (e.type, e.data) for e in run.events.all()
    ]
    assert PASSWORD not in json.dumps(recorded, default=str)
    assert PASSWORD not in workers.log_path.read_text(errors="replace")


@pytest.mark.django_db(transaction=True)
def test_through_workers_the_mail_reaches_the_smtp_server(alice, smtp, workers):
    smtp_credential(alice, smtp.port)
    run = start(
        workflow(alice, mail_graph(credential="mailer", subject="Paid {{ input.amount }}")),
        {"amount": 5},
    )

    done = wait_until(lambda: finished(run), timeout=60, what="the run to finish")

    assert done.status == "succeeded", steps(run)["mail"].error
    [(mail_from, rcpt_tos, message)] = smtp.messages
    assert (mail_from, rcpt_tos, message["Subject"]) == (
        "billing@example.com",
        ["ann@example.com"],
        "Paid 5",
    )
    assert message["Message-ID"] == steps(run)["mail"].output["message_id"]
    assert_password_nowhere(run, workers)


@pytest.mark.django_db(transaction=True)
def test_through_workers_a_550_fails_the_step_without_retry(alice, smtp, workers):
    smtp_credential(alice, smtp.port)
    graph = mail_graph(
        {"max_attempts": 3, "backoff_s": 0}, to=["nobody@example.com"], credential="mailer"
    )
    run = start(workflow(alice, graph), {"amount": 1})

    done = wait_until(lambda: finished(run), timeout=60, what="the run to finish")

    mail_step = steps(run)["mail"]
    assert done.status == "failed"
    assert (mail_step.status, mail_step.attempt) == ("failed", 1)
    assert (mail_step.error["code"], mail_step.error["retryable"]) == ("recipients_refused", False)
    assert "550 5.1.1 no such user here" in mail_step.error["message"]
    assert smtp.messages == []
    assert_password_nowhere(run, workers)


@pytest.mark.django_db(transaction=True)
def test_through_workers_a_refused_connection_is_retried_until_the_server_answers(alice, workers):
    port = free_port()  # nothing listens there yet
    smtp_credential(alice, port)
    retry = {"max_attempts": 10, "backoff_s": 0.5, "backoff_factor": 1, "jitter": False}
    run = start(workflow(alice, mail_graph(retry, credential="mailer")), {"amount": 1})

    wait_until(
        lambda: steps(run)["mail"].status == "retrying", timeout=60, what="a first failed attempt"
    )
    failed = run.events.filter(type="step.retrying", node_id="mail").first().data["error"]
    assert failed["code"] == "smtp_unreachable" and failed["retryable"] is True
    assert failed["message"].startswith(f"cannot reach the SMTP server 127.0.0.1:{port}: ")
    controller, mailbox = smtp_server(port, login=("mailer", PASSWORD))
    try:
        done = wait_until(lambda: finished(run), timeout=60, what="the run to finish")
    finally:
        controller.stop()

    mail_step = steps(run)["mail"]
    assert done.status == "succeeded"
    assert mail_step.attempt >= 2
    assert len(mailbox.messages) == 1
    assert_password_nowhere(run, workers)
