"""Groups and their members: changed only here (STYLE 1), each change audited.

Workflows name groups in their human steps (``assignees.groups``, ``escalate_to.groups``), by
name, and a run resolves the names when the step asks. So a rename or a deletion is refused
(409, naming the workflows) while a workflow would still ask the group under its old name:
- the newest version of a workflow that is not archived (its next run would fail with "no
  group named ..."), or
- a version pinned by a run that has not ended (it may reach the step yet).
Older versions no run uses any more do not count: a group once named stays changeable. A
deletion is also refused while the group holds open tasks, which would lose their assignees.
Grants to the group (workflows, credentials) go with it; they are not names but rows.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models import F, Q

from designer.catalog import catalog
from designer.models import Workflow, WorkflowVersion
from engine.models import HumanTask, Run
from engine.states import RUN_TERMINAL, TaskStatus
from people import audit

# Where a human step's config names groups.
GROUP_FIELDS = (("assignees", "groups"), ("escalate_to", "groups"))
MAX_NAME = 150  # Django's Group.name


class GroupInvalid(Exception):
    def __init__(self, errors: list[dict]) -> None:
        super().__init__(errors[0]["message"])
        self.errors = errors


class GroupInUse(Exception):
    """A rename or deletion that would break workflows or open tasks; a 409 naming them."""

    def __init__(self, message: str, workflows: list[Workflow], open_tasks: int = 0) -> None:
        super().__init__(message)
        self.workflows = workflows
        self.open_tasks = open_tasks


def _error(field: str, code: str, message: str) -> dict:
    return {"node": None, "edge": None, "field": field, "code": code, "message": message}


def groups_named_by(graph: Any) -> set[str]:
    """The group names a graph's human steps name (literally: group fields take no templates)."""
    names: set[str] = set()
    nodes = graph.get("nodes", []) if isinstance(graph, Mapping) else []
    for node in nodes:
        if not isinstance(node, Mapping):
            continue
        step_type = catalog.get(node.get("type", ""))
        config = node.get("config")
        if step_type is None or not getattr(step_type, "asks_people", False):
            continue
        if not isinstance(config, Mapping):
            continue
        for outer, inner in GROUP_FIELDS:
            part = config.get(outer)
            values = part.get(inner) if isinstance(part, Mapping) else None
            if isinstance(values, list):
                names.update(v.strip() for v in values if isinstance(v, str) and v.strip())
    return names


def _live_graphs() -> Iterator[tuple[int, Any]]:
    """(workflow id, graph) of the versions a run may still ask groups from: the newest of
    each workflow in use, and those pinned by unfinished runs."""
    newest = Q(workflow__archived=False, number=F("workflow__latest_version"))
    pinned = Run.objects.exclude(status__in=RUN_TERMINAL).values("version_id")
    live = WorkflowVersion.objects.filter(newest | Q(pk__in=pinned))
    yield from live.values_list("workflow_id", "graph").iterator()


def workflows_naming(name: str) -> list[Workflow]:
    """The workflows whose live versions name the group, by name."""
    ids = {wf_id for wf_id, graph in _live_graphs() if name in groups_named_by(graph)}
    return list(Workflow.objects.filter(pk__in=ids).order_by("name", "pk"))


def check_group_name(name: str, *, current: Group | None = None) -> str:
    name = name.strip()
    if not name:
        raise GroupInvalid([_error("name", "blank", "a group needs a name")])
    if len(name) > MAX_NAME:
        raise GroupInvalid([_error("name", "max_length", f"at most {MAX_NAME} characters")])
    taken = Group.objects.filter(name=name)
    if current is not None:
        taken = taken.exclude(pk=current.pk)
    if taken.exists():
        raise GroupInvalid([_error("name", "unique", f"a group named {name} exists")])
    return name


def check_group_unused(group: Group, doing: str, *, tasks_too: bool) -> None:
    workflows = workflows_naming(group.name)
    open_tasks = (
        HumanTask.objects.filter(assigned_groups=group, status=TaskStatus.OPEN).count()
        if tasks_too
        else 0
    )
    if workflows or open_tasks:
        reasons = []
        if workflows:
            listed = ", ".join(repr(w.name) for w in workflows[:10])
            more = f" and {len(workflows) - 10} more" if len(workflows) > 10 else ""
            reasons.append(f"workflows name it: {listed}{more}")
        if open_tasks:
            reasons.append(f"{open_tasks} open task(s) are assigned to it")
        raise GroupInUse(
            f"cannot {doing} group {group.name!r}: "
            + "; ".join(reasons)
            + ". Change those workflows (or let those tasks end) first.",
            workflows,
            open_tasks,
        )


@transaction.atomic
def do_create_group(*, actor: AbstractBaseUser, name: str) -> Group:
    group = Group.objects.create(name=check_group_name(name))
    audit.record(actor, group, audit.ADDITION, f"Created group {group.name}.")
    return group


@transaction.atomic
def do_rename_group(*, actor: AbstractBaseUser, group: Group, name: str) -> Group:
    # Locked, so that two renames (or a rename and a delete) of one group serialize.
    group = Group.objects.select_for_update().get(pk=group.pk)
    name = check_group_name(name, current=group)
    if name == group.name:
        return group
    check_group_unused(group, "rename", tasks_too=False)
    old = group.name
    group.name = name
    group.save(update_fields=["name"])
    audit.record(actor, group, audit.CHANGE, f"Renamed group {old} to {name}.")
    return group


@transaction.atomic
def do_delete_group(*, actor: AbstractBaseUser, group: Group) -> None:
    group = Group.objects.select_for_update().get(pk=group.pk)
    check_group_unused(group, "delete", tasks_too=True)
    audit.record(actor, group, audit.DELETION, f"Deleted group {group.name}.")
    group.delete()


@transaction.atomic
def do_add_members(
    *, actor: AbstractBaseUser, group: Group, users: Iterable[AbstractBaseUser]
) -> list[AbstractBaseUser]:
    """Add users to the group; returns those who were not in it yet."""
    present = set(group.user_set.values_list("pk", flat=True))
    added = [u for u in users if u.pk not in present]
    if added:
        group.user_set.add(*added)
        names = ", ".join(u.get_username() for u in added)
        audit.record(actor, group, audit.CHANGE, f"Added {names} to group {group.name}.")
    return added


@transaction.atomic
def do_remove_member(*, actor: AbstractBaseUser, group: Group, user: AbstractBaseUser) -> bool:
    """Take the user out of the group; False when they were not in it."""
    if not group.user_set.filter(pk=user.pk).exists():
        return False
    group.user_set.remove(user)
    audit.record(
        actor, group, audit.CHANGE, f"Removed {user.get_username()} from group {group.name}."
    )
    return True


@transaction.atomic
def do_ensure_groups(*, actor: AbstractBaseUser, names: Iterable[str]) -> list[Group]:
    """Create the groups that do not exist yet and put ``actor`` in each of ``names``
    (flowdeck_bootstrap, for the groups the examples name). Returns the groups created."""
    created = []
    for name in sorted(set(names)):
        group = Group.objects.filter(name=name).first()
        if group is None:
            group = do_create_group(actor=actor, name=name)
            created.append(group)
        do_add_members(actor=actor, group=group, users=[actor])
    return created
