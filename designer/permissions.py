"""Who may do what with a workflow: roles from ownership, grants to users and groups, staff."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from designer.models import ROLE_RANK, Role, Workflow, WorkflowGrant


def role_of(user: AbstractBaseUser, workflow: Workflow) -> Role | None:
    """The strongest role the user has on the workflow, or None."""
    if not user.is_authenticated:
        return None
    if user.is_staff or workflow.owner_id == user.pk:
        return Role.OWNER
    roles = WorkflowGrant.objects.filter(workflow=workflow).filter(
        Q(user=user) | Q(group__in=user.groups.all())
    )
    best = max(
        (Role(r) for r in roles.values_list("role", flat=True)), key=ROLE_RANK.get, default=None
    )
    return best


def has_role(user: AbstractBaseUser, workflow: Workflow, needed: Role) -> bool:
    role = role_of(user, workflow)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[needed]


def visible_workflows(user: AbstractBaseUser) -> QuerySet[Workflow]:
    """Workflows the user may see: staff see all, others what they own or were granted."""
    workflows = Workflow.objects.all()
    if user.is_staff:
        return workflows
    granted = WorkflowGrant.objects.filter(Q(user=user) | Q(group__in=user.groups.all()))
    return workflows.filter(Q(owner=user) | Q(pk__in=granted.values("workflow_id")))
