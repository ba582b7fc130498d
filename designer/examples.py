"""The example workflows shipped in designer/examples/, loaded on first start."""

from pathlib import Path

from django.contrib.auth.models import AbstractBaseUser

from designer import services, transfer
from designer.models import Workflow

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"


def example_files() -> list[Path]:
    return sorted(EXAMPLES_DIR.glob("*.json"))


def load_examples(owner: AbstractBaseUser) -> list[Workflow]:
    """Create each example the owner does not have yet (by name); return those created."""
    created = []
    for path in example_files():
        name, description, graph = transfer.parts_of(transfer.load(path.read_bytes(), "json"))
        if Workflow.objects.filter(owner=owner, name=name).exists():
            continue
        created.append(
            services.do_create_workflow(
                actor=owner, name=name, description=description, graph=graph, note="example"
            )
        )
    return created
