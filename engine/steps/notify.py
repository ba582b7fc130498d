"""Telling people: notify.email."""

import contextlib
import hashlib
import json
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends import smtp
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.utils import timezone

from connectors.kinds import CredentialKind
from engine.steps.base import (
    CREDENTIAL_NAME,
    TEMPLATE,
    StepContext,
    StepError,
    StepResult,
    StepType,
    object_schema,
    templated,
)

ADDRESS: dict[str, Any] = {"type": "string", "format": "email", "minLength": 3, "maxLength": 254}


def addresses(title: str, description: str, min_items: int = 0) -> dict[str, Any]:
    """A list of addresses, or one template yielding it (e.g. {{ input.recipients }})."""
    return templated(
        {"type": "array", "items": ADDRESS, "minItems": min_items, "maxItems": 50},
        title=title,
        description=description,
    )


class Email(StepType):
    """Sends one email, through Django's configured email backend or an SMTP credential.

    Addresses are checked once rendered (a bad one fails the step for good, naming its field);
    an HTML body goes out with a plain-text alternative derived from it. The Message-ID is the
    same when a retry sends the same message again. SMTP 4xx answers, timeouts and unreachable
    servers are retryable; 5xx answers (recipients refused, a failed login) are not.
    """

    type_name = "notify.email"
    title = "Email"
    category = "notify"
    credential_fields = {"credential": (CredentialKind.SMTP,)}
    description = "Sends an email through Django's email backend, or through an SMTP credential."
    config_schema = object_schema(
        {
            "to": addresses("To", "Recipients' addresses, 1 to 50.", min_items=1),
            "cc": addresses("Cc", "Copied addresses, up to 50."),
            "bcc": addresses("Bcc", "Blind-copied addresses, up to 50."),
            "subject": {
                **TEMPLATE,
                "title": "Subject",
                "description": "The subject line; may contain templates.",
                "minLength": 1,
                "maxLength": 998,
            },
            "body": {
                **TEMPLATE,
                "title": "Body",
                "description": "The message; may contain templates. Plain text unless HTML is on.",
                "minLength": 1,
            },
            "html": {
                "type": "boolean",
                "title": "HTML",
                "description": "Send the body as HTML rather than plain text.",
                "default": False,
            },
            "reply_to": {
                **ADDRESS,
                "title": "Reply to",
                "description": "The address replies go to, when not the sender's.",
            },
            "credential": {
                **CREDENTIAL_NAME,
                "title": "SMTP credential",
                "description": (
                    "The name of an SMTP credential to send with; Django's configured email "
                    "backend when absent."
                ),
            },
        },
        required=["to", "subject", "body"],
    )
    runnable = True
    blocking = True

    def run(self, ctx: StepContext) -> StepResult:
        config = ctx.config
        to = recipients(config.get("to"), "config.to", required=True)
        cc = recipients(config.get("cc"), "config.cc")
        bcc = recipients(config.get("bcc"), "config.bcc")
        reply_to = recipients(config.get("reply_to"), "config.reply_to")
        subject = one_line(config.get("subject", ""))
        body = text_of(config.get("body", ""))
        html = bool(config.get("html", False))

        if ctx.capture_email:
            return captured(ctx, to, cc, bcc, reply_to, subject, body, html)
        out = sender(ctx, config.get("credential"))
        content = [out.from_email, to, cc, bcc, reply_to, subject, body, html]
        msgid = message_id(ctx.idempotency_key.rpartition(":")[0], out.from_email, content)
        message = EmailMultiAlternatives(
            subject=subject,
            body=text_of_html(body) if html else body,
            from_email=out.from_email,
            to=to,
            cc=cc,
            bcc=bcc,
            reply_to=reply_to,
            headers={"Message-ID": msgid},
            connection=out.connection,
        )
        if html:
            message.attach_alternative(body, "text/html")
        if ctx.cancelled.is_set():
            raise StepError("the attempt was cancelled before sending", code="cancelled")
        try:
            message.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            raise smtp_error(exc, out) from None
        finally:
            close_quietly(out.connection)
        output: dict[str, Any] = {
            "message_id": msgid,
            "from": out.from_email,
            "to": to,
            "cc": cc,
            "bcc": len(bcc),
            "subject": subject,
            "sent_at": timezone.now().isoformat(),
        }
        refused = getattr(out.connection, "refused", {})
        if refused:
            # The server took the message for the others: not a failure (a retry would send
            # it to them twice), but the workflow can see who got nothing.
            output["refused"] = {a: _reply(c, t) for a, (c, t) in refused.items()}
        return StepResult(output=output)


def captured(
    ctx: StepContext,
    to: list[str],
    cc: list[str],
    bcc: list[str],
    reply_to: list[str],
    subject: str,
    body: str,
    html: bool,
) -> StepResult:
    """A test run's email: the message as it would be sent, kept in the output; nothing is
    sent and no credential is opened."""
    ctx.log(f"test run: the email to {', '.join(to)} was captured, not sent")
    message = {"to": to, "cc": cc, "bcc": bcc, "reply_to": reply_to, "subject": subject}
    message |= {"html": body, "text": text_of_html(body)} if html else {"text": body}
    output = {"captured": True, "to": to, "cc": cc, "bcc": len(bcc), "subject": subject}
    return StepResult(output=output | {"message": message})


# --- Runtime ------------------------------------------------------------------------------------

# Recipients per field after rendering: the schema limits literal lists, a template may yield more.
MAX_RECIPIENTS = 50
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
RECORDING_SMTP_BACKEND = "engine.steps.notify.RecordingSMTPBackend"
# Seconds a connection to a credential's server may hang (connect, each reply) before the attempt
# fails as retryable; the node's timeout_s bounds the whole attempt as for any step.
SMTP_TIMEOUT_S = 30


class AddressError(StepError):
    """A recipient that is not an email address once rendered: permanent, naming the field."""

    def __init__(self, message: str, field: str, code: str = "invalid_address") -> None:
        super().__init__(f"{field}: {message}", retryable=False, code=code)
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "field": self.field}


def recipients(value: Any, field: str, *, required: bool = False) -> list[str]:
    """The rendered ``value`` of an address field as a list of checked addresses. A single
    string is one address (a template such as ``{{ input.manager_email }}``)."""
    if value is None:
        items: list[Any] = []
    elif isinstance(value, str):
        items = [value] if value.strip() else []
    elif isinstance(value, list):
        items = value
    else:
        raise AddressError(
            f"must be a list of email addresses, not {type(value).__name__}", field, "invalid_type"
        )
    if required and not items:
        raise AddressError("no recipient once rendered", field, "no_recipients")
    if len(items) > MAX_RECIPIENTS:
        raise AddressError(
            f"{len(items)} addresses; at most {MAX_RECIPIENTS}", field, "too_many_recipients"
        )
    checked = []
    for index, item in enumerate(items):
        where = f"{field}.{index}" if isinstance(value, list) else field
        address = item.strip() if isinstance(item, str) else item
        try:
            if not isinstance(address, str):
                raise ValidationError("not a string")
            validate_email(address)
        except ValidationError:
            shown = repr(item) if len(repr(item)) <= 120 else repr(item)[:117] + "..."
            raise AddressError(f"{shown} is not an email address", where) from None
        checked.append(address)
    return checked


def one_line(value: Any) -> str:
    """A subject on one line: a header cannot hold a line break, and a template may end in one."""
    return re.sub(r"\s*[\r\n]+\s*", " ", text_of(value)).strip()


def text_of(value: Any) -> str:
    """A rendered template as text: a template yielding a list or an object reads as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


class _HtmlText(HTMLParser):
    """Plain text of an HTML body, for the text/plain part mail clients fall back to: blocks
    and line breaks become new lines, list items dashes or numbers, links "text (url)";
    scripts, styles and the head are dropped."""

    SKIP = frozenset({"head", "script", "style", "title", "template", "noscript"})
    PARAGRAPH = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "blockquote", "pre", "hr"}
    )
    LINE = frozenset(
        {"div", "tr", "li", "dt", "dd", "dl", "section", "article", "header", "footer", "nav"}
        | {"figure", "figcaption", "address", "form", "fieldset", "main", "aside"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.pending = 0  # new lines owed before the next text (blocks break lazily)
        self.line_start = True
        self.skipping = 0
        self.pre = 0
        self.lists: list[int | None] = []  # None for <ul>, the next number for <ol>
        self.links: list[tuple[str | None, int]] = []  # (href, index in out of its text)

    def _emit(self, text: str) -> None:
        if self.pending and self.out:
            while self.out and self.out[-1].endswith(" "):
                self.out[-1] = self.out[-1].rstrip(" ")
                if not self.out[-1]:
                    self.out.pop()
            self.out.append("\n" * self.pending)
        self.pending = 0
        self.out.append(text)
        self.line_start = text.endswith("\n")

    def _break(self, lines: int) -> None:
        self.pending = max(self.pending, lines)
        self.line_start = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
            return
        if tag in self.PARAGRAPH:
            self._break(2)
        elif tag in self.LINE:
            self._break(1)
        if tag == "br":
            self._emit("\n")
        elif tag == "hr":
            self._emit("----")
            self._break(2)
        elif tag == "pre":
            self.pre += 1
        elif tag in ("ul", "ol"):
            self.lists.append(1 if tag == "ol" else None)
        elif tag == "li":
            number = self.lists[-1] if self.lists else None
            indent = "  " * max(0, len(self.lists) - 1)
            if number is None:
                self._emit(f"{indent}- ")
            else:
                self._emit(f"{indent}{number}. ")
                self.lists[-1] = number + 1
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.out)))
        elif tag == "img":
            self.handle_data((dict(attrs).get("alt") or "").strip())
        elif tag in ("td", "th") and not self.line_start:
            self._emit("  ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
            return
        if tag == "a" and self.links:
            href, start = self.links.pop()
            shown = (href or "").strip().removeprefix("mailto:")
            # A link whose text is its address already says it; an anchor (#top) says nothing.
            if shown and not shown.startswith("#") and shown not in "".join(self.out[start:]):
                self._emit(f" ({shown})")
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in self.PARAGRAPH:
            self._break(2)
        elif tag in self.LINE:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self.skipping or not data:
            return
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if self.line_start:
                data = data.lstrip(" ")
            if not data:
                return
        self._emit(data)

    def text(self) -> str:
        lines = "".join(self.out).split("\n")
        return re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in lines)).strip()


def text_of_html(html: str) -> str:
    """The plain-text fallback of an HTML body."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    return parser.text()


class RecordingSMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend, keeping the recipients the server refused while it accepted
    others: smtplib returns them from ``sendmail`` and Django drops them, so a step would say
    "sent" for an address that got nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.refused: dict[str, tuple[int, bytes]] = {}

    def open(self) -> bool | None:
        opened = super().open()
        if opened and self.connection is not None:
            sendmail = self.connection.sendmail

            def recording(*args: Any, **kwargs: Any) -> dict[str, tuple[int, bytes]]:
                refused = sendmail(*args, **kwargs)
                self.refused.update(refused or {})
                return refused

            self.connection.sendmail = recording
        return opened


@dataclass(frozen=True)
class Sender:
    """Where a message goes out: a connection, its from address, and how errors name it."""

    connection: BaseEmailBackend
    from_email: str
    where: str  # "the SMTP server host:port", for messages
    username: str = ""


def sender(ctx: StepContext, credential_name: str | None) -> Sender:
    """The connection for this attempt: an SMTP credential's server, else Django's configured
    backend (settings EMAIL_*; the console backend by default)."""
    if credential_name:
        opened = ctx.credential(credential_name, (CredentialKind.SMTP,))
        public, secret = opened.public, opened.secret
        host, port = public["host"], int(public["port"])
        # Implicit TLS on 465, the port that means it; STARTTLS everywhere else unless the
        # credential says otherwise: a password never crosses the network in clear by default.
        security = public.get("security") or ("ssl" if port == 465 else "starttls")
        connection = get_connection(
            RECORDING_SMTP_BACKEND,
            fail_silently=False,
            host=host,
            port=port,
            # "" and not None: None would make Django fall back to the settings' own login.
            username=public.get("username") or "",
            password=secret.get("password") or "",
            use_tls=security == "starttls",
            use_ssl=security == "ssl",
            timeout=SMTP_TIMEOUT_S,
        )
        return Sender(
            connection,
            public.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            f"the SMTP server {host}:{port}",
            public.get("username") or "",
        )
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        if settings.EMAIL_HOST_PASSWORD:
            # Not a credential, but as secret: scrubbed from what the attempt records.
            ctx.secrets.append(settings.EMAIL_HOST_PASSWORD)
        return Sender(
            get_connection(RECORDING_SMTP_BACKEND, fail_silently=False),
            settings.DEFAULT_FROM_EMAIL,
            f"the SMTP server {settings.EMAIL_HOST}:{settings.EMAIL_PORT}",
            settings.EMAIL_HOST_USER,
        )
    return Sender(
        get_connection(fail_silently=False), settings.DEFAULT_FROM_EMAIL, "the email backend"
    )


def close_quietly(connection: BaseEmailBackend) -> None:
    """Close the connection; a failing QUIT must not hide the outcome of the send."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        connection.close()


def message_id(key: str, from_email: str, content: Any) -> str:
    """A Message-ID that is the same whenever this step sends this message again, so that a
    receiving system can drop the copy: from the step's idempotency key without its attempt
    number (a retry after a lost reply from the server resends it) and the message itself (an
    operator's retry with an edited input is a new message)."""
    material = json.dumps([key, content], sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(material.encode()).hexdigest()[:40]
    domain = parseaddr(from_email)[1].rpartition("@")[2] or "localhost"
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = "localhost"
    return f"<{digest}.flowdeck@{domain}>"


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return f"{code} {' '.join(text.split())}"


def smtp_error(exc: Exception, out: Sender) -> StepError:
    """What an SMTP failure means for the step: refused for good (5xx, a bad login, a server
    without the TLS asked for) or worth another attempt (4xx, no answer, a dropped connection)."""
    where = out.where
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        refused = "; ".join(f"{a} ({_reply(c, t)})" for a, (c, t) in exc.recipients.items())
        return StepError(
            f"{where} refused every recipient: {refused}",
            retryable=any(400 <= code < 500 for code in codes),
            code="recipients_refused",
        )
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return StepError(
            f"{where} refused the login of {out.username!r}: "
            f"{_reply(exc.smtp_code, exc.smtp_error)}",
            retryable=400 <= exc.smtp_code < 500,
            code="smtp_auth_failed",
        )
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return StepError(
            f"{where} refused the sender {out.from_email}: {_reply(exc.smtp_code, exc.smtp_error)}",
            retryable=400 <= exc.smtp_code < 500,
            code="sender_refused",
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return StepError(
            f"{where}: {exc} (check the credential's security: starttls, ssl or none)",
            retryable=False,
            code="smtp_not_supported",
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        transient = not 500 <= exc.smtp_code < 600
        return StepError(
            f"{where} answered {_reply(exc.smtp_code, exc.smtp_error)}",
            retryable=transient,
            code="smtp_temporary_error" if transient else "smtp_rejected",
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return StepError(f"{where} closed the connection: {exc}", code="smtp_disconnected")
    if isinstance(exc, smtplib.SMTPException):
        return StepError(f"{where}: {exc}", code="smtp_error")
    if isinstance(exc, ssl.SSLError):
        # A certificate that does not verify, or TLS spoken to a plain port: fixed by changing
        # the credential, not by trying again.
        return StepError(
            f"TLS with {where} failed: {exc.reason or exc} (check the credential's security "
            "and port)",
            retryable=False,
            code="smtp_tls_failed",
        )
    if isinstance(exc, TimeoutError):
        return StepError(f"{where} did not answer in time", code="smtp_timeout")
    if isinstance(exc, OSError):
        return StepError(f"cannot reach {where}: {exc.strerror or exc}", code="smtp_unreachable")
    raise exc
