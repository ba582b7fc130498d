"""Every change to credentials goes through these ``do_*`` functions (STYLE 1), and every use:
who may see, use, change and share one (``role_on``), the checks a saved graph's references
pass (``graph_credential_errors``), and opening one for a step (``resolve``).

Who may use a credential at run time: the author of the workflow version that names it (the
person who wired it in, who needed the runner role on it to save), else the workflow's owner.
A revoked grant therefore stops the next run, not only the next save.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models import Q, QuerySet
from jsonschema import Draft202012Validator, FormatChecker

from connectors.crypto import reseal, seal, unseal
from connectors.kinds import KINDS, data_schema
from connectors.models import Credential, CredentialGrant
from designer.catalog import catalog
from designer.models import ROLE_RANK, Role

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
# Shorter values are not scrubbed from outputs: replacing every "ab" would mangle them, and a
# secret that short protects nothing anyway.
MIN_SCRUB_LENGTH = 4
MASK = "***"


class CredentialInvalid(Exception):
    """Bad input for a credential; ``errors`` in the API's shape (field under ``data.``)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "invalid credential")
        self.errors = errors


class CredentialUnavailable(Exception):
    """A step names a credential that does not exist, is of the wrong kind, or that the
    workflow may not use. One message for all three: it must not tell which exist."""


def _error(field: str, code: str, message: str) -> dict[str, Any]:
    return {"node": None, "edge": None, "field": field, "code": code, "message": message}


# --- Who may do what ----------------------------------------------------------------------------


def role_on(user: AbstractBaseUser, credential: Credential) -> Role | None:
    """The strongest role the user has on the credential, or None."""
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff or credential.owner_id == user.pk:
        return Role.OWNER
    roles = credential.grants.filter(Q(user=user) | Q(group__in=user.groups.all())).values_list(
        "role", flat=True
    )
    return max((Role(r) for r in roles), key=ROLE_RANK.get, default=None)


def credentials_with(user: AbstractBaseUser, needed: Role) -> QuerySet[Credential]:
    """Credentials on which the user has ``needed`` or a stronger role."""
    everything = Credential.objects.all()
    if not user.is_authenticated or not user.is_active:
        return everything.none()
    if user.is_staff:
        return everything
    strong = [r for r in Role if ROLE_RANK[r] >= ROLE_RANK[needed]]
    granted = CredentialGrant.objects.filter(
        Q(user=user) | Q(group__in=user.groups.all()), role__in=strong
    )
    return everything.filter(Q(owner=user) | Q(pk__in=granted.values("credential_id")))


# --- Changes ------------------------------------------------------------------------------------


def check_data(kind: str, data: Any, old: Credential | None = None) -> tuple[dict, dict]:
    """Split ``data`` into (public, secret) after checking it against the kind's schema. When
    changing ``old``, omitted secret fields keep their values (the client never has them)."""
    if kind not in KINDS:
        raise CredentialInvalid([_error("kind", "invalid_choice", f"unknown kind {kind!r}")])
    if not isinstance(data, dict):
        raise CredentialInvalid([_error("data", "invalid_type", "data must be an object")])
    spec = KINDS[kind]
    merged = dict(data)
    if old is not None and old.kind == kind:
        kept_public = {k: v for k, v in old.public.items() if k not in merged}
        merged = {**kept_public, **merged}
        missing_secret = [k for k in old.secret_fields if k not in merged]
        if missing_secret:
            merged |= {k: v for k, v in unseal(old.sealed).items() if k in missing_secret}
    validator = Draft202012Validator(data_schema(kind), format_checker=FormatChecker())
    errors = []
    for problem in sorted(validator.iter_errors(merged), key=lambda e: list(e.path)):
        where = ".".join(["data", *map(str, problem.path)])
        if problem.validator == "required":
            missing = problem.message.split("'")[1]
            errors.append(_error(f"data.{missing}", "required", f"{missing} is required"))
        elif problem.validator == "additionalProperties":
            errors.append(_error("data", "unknown_field", problem.message))
        elif problem.path and problem.path[0] in spec.secret:
            # Never echo a secret value in an error message.
            errors.append(_error(where, "invalid", f"{problem.path[0]} is not acceptable"))
        else:
            errors.append(_error(where, "invalid", problem.message))
    if errors:
        raise CredentialInvalid(errors)
    public = {k: v for k, v in merged.items() if k in spec.public}
    secret = {k: v for k, v in merged.items() if k in spec.secret}
    return public, secret


@transaction.atomic
def do_create_credential(
    *, actor: AbstractBaseUser, name: str, kind: str, data: Any, description: str = ""
) -> Credential:
    """A new credential owned by the actor; its secret fields are sealed before they are saved."""
    public, secret = check_data(kind, data)
    if Credential.objects.filter(name=name).exists():
        raise CredentialInvalid([_error("name", "unique", f"a credential named {name} exists")])
    return Credential.objects.create(
        name=name,
        kind=kind,
        description=description,
        owner=actor,
        public=public,
        sealed=seal(secret),
        secret_fields=sorted(secret),
    )


@transaction.atomic
def do_update_credential(
    *,
    actor: AbstractBaseUser,
    credential: Credential,
    name: str | None = None,
    description: str | None = None,
    data: Any = None,
) -> Credential:
    """Rename, redescribe, or replace data (omitted secret fields keep their values)."""
    # Lock the row: two editors merging data into one credential must not lose a field.
    credential = Credential.objects.select_for_update().get(pk=credential.pk)
    if name is not None and name != credential.name:
        if Credential.objects.filter(name=name).exclude(pk=credential.pk).exists():
            raise CredentialInvalid([_error("name", "unique", f"a credential named {name} exists")])
        credential.name = name
    if description is not None:
        credential.description = description
    if data is not None:
        public, secret = check_data(credential.kind, data, old=credential)
        credential.public = public
        credential.sealed = seal(secret)
        credential.secret_fields = sorted(secret)
    credential.save()
    return credential


@transaction.atomic
def do_delete_credential(*, actor: AbstractBaseUser, credential: Credential) -> None:
    """Delete it. Workflows that name it fail at their next use of it, with a clear error."""
    credential.delete()


@transaction.atomic
def do_grant_credential(
    *,
    actor: AbstractBaseUser,
    credential: Credential,
    role: Role,
    user: AbstractBaseUser | None = None,
    group: Group | None = None,
) -> CredentialGrant:
    """Give a user or a group a role on the credential, replacing the one they had."""
    if (user is None) == (group is None):
        raise ValueError("grant to exactly one of user or group")
    grant, _ = CredentialGrant.objects.update_or_create(
        credential=credential, user=user, group=group, defaults={"role": role}
    )
    return grant


@transaction.atomic
def do_revoke_credential(*, actor: AbstractBaseUser, grant: CredentialGrant) -> None:
    grant.delete()


@transaction.atomic
def do_rotate_key() -> int:
    """Seal every credential again with the first configured key; returns how many."""
    count = 0
    # Locked, so a save during the rotation waits instead of being sealed with the old key
    # and then overwritten.
    for credential in Credential.objects.select_for_update().only("pk", "sealed"):
        Credential.objects.filter(pk=credential.pk).update(sealed=reseal(credential.sealed))
        count += 1
    return count


# --- References from graphs ---------------------------------------------------------------------


def _at(config: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(config, Mapping):
            return None
        config = config.get(part)
    return config


def references(graph: Any) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(node id, config field, credential name, accepted kinds) for each credential a graph
    names, from the ``credential_fields`` its step types declare."""
    found = []
    nodes = graph.get("nodes", []) if isinstance(graph, Mapping) else []
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        step_type = catalog.get(node.get("type"))
        for path, kinds in getattr(step_type, "credential_fields", {}).items():
            name = _at(node.get("config"), path)
            if isinstance(name, str) and name:
                found.append((str(node.get("id")), f"config.{path}", name, tuple(kinds)))
    return found


def graph_credential_errors(graph: Any, user: AbstractBaseUser) -> list[dict[str, Any]]:
    """Errors for every credential the graph names that ``user`` may not use, that does not
    exist, or whose kind does not fit the field. Which of the first two is never said."""
    refs = references(graph)
    if not refs:
        return []
    usable = dict(
        credentials_with(user, Role.RUNNER)
        .filter(name__in={name for _, _, name, _ in refs})
        .values_list("name", "kind")
    )
    errors = []
    for node, field_path, name, kinds in refs:
        kind = usable.get(name)
        if kind is None:
            errors.append(
                {
                    "node": node,
                    "edge": None,
                    "field": field_path,
                    "code": "unknown_credential",
                    "message": f"no credential named {name} that you may use",
                }
            )
        elif kind not in kinds:
            errors.append(
                {
                    "node": node,
                    "edge": None,
                    "field": field_path,
                    "code": "wrong_credential_kind",
                    "message": (
                        f"{name} is a {kind} credential; this field takes {', '.join(kinds)}"
                    ),
                }
            )
    return errors


# --- Use at run time ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedCredential:
    """An opened credential, for one step attempt. ``repr`` hides the secret part, so a
    traceback or a debug log of it shows nothing to hide."""

    name: str
    kind: str
    public: Mapping[str, Any]
    secret: Mapping[str, Any] = field(repr=False)

    def secret_values(self) -> list[str]:
        return [v for v in self.secret.values() if isinstance(v, str) and v]


def resolve(name: str, *, user_id: int | None, kinds: Iterable[str]) -> ResolvedCredential:
    """Open the credential ``name`` for a step run on behalf of ``user_id`` (see the module's
    docstring). Raises CredentialUnavailable with one message whatever the reason."""
    unavailable = CredentialUnavailable(
        f"the credential {name} does not exist, is not a {' or '.join(kinds)} credential, or "
        "the workflow's author may no longer use it"
    )
    credential = Credential.objects.filter(name=name).first()
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    if credential is None or user is None or credential.kind not in set(kinds):
        raise unavailable
    role = role_on(user, credential)
    if role is None or ROLE_RANK[role] < ROLE_RANK[Role.RUNNER]:
        raise unavailable
    return ResolvedCredential(
        name=credential.name,
        kind=credential.kind,
        public=dict(credential.public),
        secret=unseal(credential.sealed),
    )


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (JSON) with every occurrence of a secret replaced by ``***``: what a step
    returns, raises or logs is stored and shown, and a service that echoes a token back must
    not put it into the run's history."""
    secrets = sorted({s for s in secrets if len(s) >= MIN_SCRUB_LENGTH}, key=len, reverse=True)
    if not secrets:
        return value

    def clean(v: Any) -> Any:
        if isinstance(v, str):
            for secret in secrets:
                if secret in v:
                    v = v.replace(secret, MASK)
            return v
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, dict):
            return {clean(k): clean(x) for k, x in v.items()}
        return v

    return clean(value)
