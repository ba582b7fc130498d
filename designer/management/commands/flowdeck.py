"""``manage.py flowdeck export|import|load-examples``: workflows as files."""

import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from designer import services, transfer
from designer.examples import load_examples
from designer.models import Workflow


class Command(BaseCommand):
    help = "Export and import workflows as JSON or YAML documents; load the examples."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        export = sub.add_parser("export", help="Write a workflow version as a document.")
        export.add_argument("workflow", help="id or exact name")
        export.add_argument("--version", type=int, help="default: the newest")
        export.add_argument("--format", choices=transfer.FORMATS, help="default: from --output")
        export.add_argument("--output", "-o", help="file; default: standard output")
        imp = sub.add_parser("import", help="Create a workflow (or a new version) from a file.")
        imp.add_argument("file", help="a .json, .yaml or .yml document, or - for stdin")
        imp.add_argument("--owner", required=True, help="username of the new workflow's owner")
        imp.add_argument("--name", help="name for a bare graph, or to rename")
        imp.add_argument("--into", type=int, help="save as the next version of this workflow id")
        examples = sub.add_parser("load-examples", help="Create the example workflows.")
        examples.add_argument("--owner", required=True)

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, "handle_" + action.replace("-", "_"))(**options)

    def user(self, username: str):
        try:
            return get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {username!r}") from None

    def handle_export(self, *, workflow: str, version, format, output, **_) -> None:
        found = self.find(workflow)
        number = version or found.latest_version
        chosen = found.versions.filter(number=number).first()
        if chosen is None:
            raise CommandError(f"workflow {found.pk} has no version {number}")
        fmt = format or ("yaml" if output and output.endswith((".yaml", ".yml")) else "json")
        text = transfer.dump(transfer.export_document(found, chosen), fmt)
        if output:
            Path(output).write_text(text)
            self.stderr.write(f"wrote {found.name!r} version {number} to {output}")
        else:
            self.stdout.write(text, ending="")

    def handle_import(self, *, file: str, owner: str, name, into, **_) -> None:
        raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        fmt = "yaml" if file.endswith((".yaml", ".yml")) else None
        try:
            doc_name, description, graph = transfer.parts_of(transfer.load(raw, fmt), name)
        except transfer.ImportError_ as exc:
            raise CommandError(str(exc)) from None
        actor = self.user(owner)
        try:
            if into:
                workflow = self.find(str(into))
                version = services.do_save_version(
                    actor=actor,
                    workflow=workflow,
                    graph=graph,
                    base_version=None,
                    note=f"imported from {file}",
                )
                self.stdout.write(f"workflow {workflow.pk}: saved version {version.number}")
            else:
                workflow = services.do_create_workflow(
                    actor=actor,
                    name=doc_name,
                    description=description,
                    graph=graph,
                    note=f"imported from {file}",
                )
                self.stdout.write(f"workflow {workflow.pk}: created {doc_name!r}")
        except services.GraphInvalid as exc:
            lines = [
                f"  {e['code']}: {e['message']}"
                + (f" (node {e['node']})" if e["node"] else "")
                + (f" (field {e['field']})" if e["field"] else "")
                for e in exc.errors
            ]
            raise CommandError("the graph is not valid:\n" + "\n".join(lines)) from None
        except services.GraphTooLarge as exc:
            raise CommandError(str(exc)) from None

    def handle_load_examples(self, *, owner: str, **_) -> None:
        created = load_examples(self.user(owner))
        for workflow in created:
            self.stdout.write(f"workflow {workflow.pk}: {workflow.name}")
        self.stdout.write(f"{len(created)} example workflow(s) created")

    def find(self, ref: str) -> Workflow:
        if ref.isdigit():
            found = Workflow.objects.filter(pk=int(ref)).first()
        else:
            matches = list(Workflow.objects.filter(name=ref)[:2])
            if len(matches) > 1:
                raise CommandError(f"several workflows are named {ref!r}; give the id")
            found = matches[0] if matches else None
        if found is None:
            raise CommandError(f"no workflow {ref!r}")
        return found
