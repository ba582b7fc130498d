"""Every change to webhook tokens goes through these ``do_*`` functions (STYLE 1), and every
lookup of an incoming request's token: issuing one when a version with a ``trigger.webhook``
node is saved, rotating it, and finding what a token starts.

One token per workflow, kept across versions: senders are configured once with a URL, and a
URL that changed on every save would break them silently. A request starts the newest version;
while that version has no webhook trigger (it was removed), or the workflow is archived, the
token answers 404 like an unknown one, and works again once the trigger is back.
"""

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from connectors.crypto import seal, unseal
from designer.models import Workflow, WorkflowVersion
from engine.transitions import load_version
from webhooks.models import WebhookEndpoint

log = logging.getLogger("flowdeck.webhooks")

WEBHOOK_TYPE = "trigger.webhook"
# The step type's defaults (engine/steps/triggers.py), for configs that leave them out.
DEFAULT_MAX_BODY_BYTES = 1_048_576
# The largest max_body_bytes a trigger may set (its config schema's maximum): the endpoint's
# limit before the token is known (flowdeck/bodylimit.py); each trigger's own comes after.
LARGEST_MAX_BODY_BYTES = 10_485_760
DEFAULT_SIGNATURE_HEADER = "X-Flowdeck-Signature"
DEFAULT_TIMESTAMP_HEADER = "X-Flowdeck-Timestamp"
DEFAULT_TOLERANCE_S = 300


def new_token() -> str:
    """256 random bits, URL-safe: guessing one is hopeless, so the URL itself may admit."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps to find a token: sha256 needs no salt for 256 random bits."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def webhook_node(graph: Any) -> Mapping[str, Any] | None:
    """The graph's trigger.webhook node, if it has one (a graph has exactly one trigger)."""
    nodes = graph.get("nodes", []) if isinstance(graph, Mapping) else []
    for node in nodes:
        if isinstance(node, Mapping) and node.get("type") == WEBHOOK_TYPE:
            return node
    return None


def token_of(endpoint: WebhookEndpoint) -> str:
    return unseal(endpoint.sealed_token)["token"]


def _set_token(endpoint: WebhookEndpoint) -> str:
    token = new_token()
    endpoint.token_hash = hash_token(token)
    endpoint.sealed_token = seal({"token": token})
    return token


@transaction.atomic
def do_issue_endpoint(
    *, workflow: Workflow, actor: AbstractBaseUser | None
) -> tuple[WebhookEndpoint, bool]:
    """The workflow's webhook endpoint, created with a fresh token when it has none yet.
    Returns (endpoint, created)."""
    existing = WebhookEndpoint.objects.filter(workflow=workflow).first()
    if existing is not None:
        return existing, False
    endpoint = WebhookEndpoint(workflow=workflow)
    _set_token(endpoint)
    # Saves of one workflow serialize on its row lock (designer/services.py), so two issues
    # cannot race here; the one-to-one constraint is the backstop.
    endpoint.save()
    log.info("webhook issued for workflow %s by %s", workflow.pk, actor or "the system")
    return endpoint, True


@transaction.atomic
def do_rotate_endpoint(*, workflow: Workflow, actor: AbstractBaseUser) -> WebhookEndpoint:
    """Replace the workflow's token (issuing one if it had none): the old URL stops working
    the moment this commits, since requests find their endpoint by the token's hash."""
    endpoint, created = do_issue_endpoint(workflow=workflow, actor=actor)
    if created:
        return endpoint
    # Lock the row: two rotations at once end with one token, the second one's.
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    _set_token(endpoint)
    endpoint.rotated_at = timezone.now()
    endpoint.save(update_fields=["token_hash", "sealed_token", "rotated_at"])
    log.info("webhook of workflow %s rotated by %s", workflow.pk, actor)
    return endpoint


def on_version_saved(
    sender: Any, *, workflow: Workflow, version: WorkflowVersion, actor: Any, **kwargs: Any
) -> None:
    """designer.signals.version_saved: a version with a webhook trigger gets its workflow a
    token, once. Inside the save's transaction: no version, no token, and the reverse."""
    if webhook_node(version.graph) is not None:
        do_issue_endpoint(workflow=workflow, actor=actor)


def newest_version(workflow: Workflow) -> WorkflowVersion | None:
    return (
        WorkflowVersion.objects.filter(workflow=workflow, number=workflow.latest_version)
        .only("pk", "number", "author_id", "workflow_id")
        .first()
    )


@dataclass(frozen=True)
class Target:
    """What an incoming request's token leads to: the version it starts and its trigger's
    config."""

    endpoint_id: int
    token_hash: str
    workflow: Workflow
    version: WorkflowVersion
    graph: Mapping[str, Any]
    config: Mapping[str, Any]

    @property
    def max_body_bytes(self) -> int:
        return int(self.config.get("max_body_bytes", DEFAULT_MAX_BODY_BYTES))

    @property
    def signature(self) -> Mapping[str, Any] | None:
        return self.config.get("signature") or None

    @property
    def credential_user_id(self) -> int | None:
        # As the engine opens a step's credentials (engine/tasks.py): the version's author,
        # else the workflow's owner.
        return self.version.author_id or self.workflow.owner_id


def find_target(token: str) -> Target | None:
    """The target of ``token``, or None for an unknown token, an archived workflow, or a
    newest version without a webhook trigger; callers answer all of them alike."""
    digest = hash_token(token)
    endpoint = WebhookEndpoint.objects.select_related("workflow").filter(token_hash=digest).first()
    if endpoint is None or endpoint.workflow.archived:
        return None
    version = newest_version(endpoint.workflow)
    if version is None:
        return None
    graph = load_version(version.pk).graph  # versions are immutable: cached per process
    node = webhook_node(graph)
    if node is None:
        return None
    return Target(
        endpoint_id=endpoint.pk,
        token_hash=digest,
        workflow=endpoint.workflow,
        version=version,
        graph=graph,
        config=node.get("config") or {},
    )
