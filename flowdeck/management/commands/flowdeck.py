"""``manage.py flowdeck export|import|load-examples|run|test``: workflows as files, runs and
step tests from the command line."""

import json
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from designer import services, transfer
from designer.examples import load_examples
from designer.models import Workflow
from engine import steptests, transitions
from engine.models import Run, RunEvent, Trigger
from engine.states import Priority


class Command(BaseCommand):
    help = (
        "Export and import workflows as JSON or YAML documents; load the examples; start a run "
        "and follow it; run a workflow's step tests."
    )

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
        run = sub.add_parser("run", help="Start a run; with --wait, print its progress and output.")
        run.add_argument("workflow", help="id or exact name")
        run.add_argument(
            "--input",
            help="the run's input as JSON (default: a scheduled workflow's schedule input, or {})",
        )
        run.add_argument("--version", type=int, help="default: the newest")
        run.add_argument("--as", dest="username", help="the user starting it (the run's actor)")
        run.add_argument("--idempotency-key", help="a second start with this key is the same run")
        run.add_argument(
            "--priority",
            choices=Priority.values,
            help="the run's priority (the workflow's when left out)",
        )
        run.add_argument("--wait", action="store_true", help="follow the run until it ends")
        run.add_argument("--timeout", type=float, help="with --wait: give up after this many s")
        test = sub.add_parser(
            "test",
            help="Run a workflow's step tests on the workers; exit status 1 when one fails.",
        )
        test.add_argument("workflow", help="id or exact name")
        test.add_argument("--version", type=int, help="default: the newest")
        test.add_argument("--junit", help="write the results as JUnit XML to this file")
        test.add_argument("--as", dest="username", help="the user running them (default: owner)")
        test.add_argument(
            "--timeout",
            type=float,
            default=steptests.TIMEOUT_S,
            help=f"the unfinished tests fail after this many s (default {steptests.TIMEOUT_S:g})",
        )

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

    def handle_run(
        self,
        *,
        workflow: str,
        input: str,
        version,
        username,
        idempotency_key,
        wait,
        timeout,
        priority=None,
        **_,
    ) -> None:
        found = self.find(workflow)
        try:
            data = None if input is None else json.loads(input)
        except json.JSONDecodeError as exc:
            raise CommandError(f"--input is not JSON: {exc}") from None
        try:
            chosen, data = transitions.check_start(found, version, data)
        except (transitions.Conflict, transitions.UnknownVersion) as exc:
            raise CommandError(str(exc)) from None
        except transitions.InputInvalid as exc:
            lines = [f"  {e['field']}: {e['message']}" for e in exc.errors]
            raise CommandError("the input is not valid:\n" + "\n".join(lines)) from None
        run, created = transitions.do_start_run(
            version=chosen,
            input=data,
            trigger=Trigger.CLI,
            actor=self.user(username) if username else None,
            idempotency_key=idempotency_key,
            priority=priority,
        )
        verb = "started" if created else "already exists (same idempotency key)"
        self.stdout.write(f"run {run.pk} {verb}: {found.name!r} version {chosen.number}")
        if wait:
            self.follow(run, timeout)

    def follow(self, run: Run, timeout: float | None) -> None:
        """Print the run's events as they come (workers do the work), then its output."""
        deadline = None if timeout is None else time.monotonic() + timeout
        after = 0
        while True:
            for event in RunEvent.objects.filter(run=run, id__gt=after).order_by("id"):
                after = event.id
                self.stdout.write(self.describe(event))
            run.refresh_from_db()
            if run.is_terminal and not RunEvent.objects.filter(run=run, id__gt=after).exists():
                break
            if deadline is not None and time.monotonic() > deadline:
                raise CommandError(f"run {run.pk} is still {run.status} after {timeout} s")
            time.sleep(0.2)
        if run.status != "succeeded":
            raise CommandError(f"run {run.pk} {run.status}: {(run.error or {}).get('message', '')}")
        self.stdout.write(json.dumps(run.output, indent=2, sort_keys=True))

    @staticmethod
    def describe(event: RunEvent) -> str:
        when = event.created_at.strftime("%H:%M:%S.%f")[:-3]
        parts: list[Any] = [when, f"{event.type:<16}", event.node_id or "-"]
        if event.attempt:
            parts.append(f"attempt {event.attempt}")
        error = event.data.get("error") if isinstance(event.data, dict) else None
        if error:
            parts.append(f"error: {error.get('message')}")
        elif event.data.get("reason"):
            parts.append(event.data["reason"])
        return "  ".join(str(p) for p in parts)

    def handle_test(self, *, workflow: str, version, junit, username, timeout, **_) -> None:
        try:
            found = self.find(workflow)
        except CommandError as exc:
            raise CommandError(str(exc), returncode=2) from None
        number = version or found.latest_version
        chosen = found.versions.filter(number=number).first()
        if chosen is None:
            raise CommandError(f"workflow {found.pk} has no version {number}", returncode=2)
        tests = list(found.step_tests.order_by("name"))
        actor = self.user(username) if username else found.owner
        results = steptests.run_step_tests(
            actor=actor, workflow=found, graph=chosen.graph, tests=tests, timeout=timeout
        )
        for result in results:
            verdict = "PASS" if result["passed"] else "FAIL"
            self.stdout.write(f"{verdict}  {result['name']}  ({result['node']})")
            for failure in result["failures"]:
                self.stdout.write(f"      {failure['kind']}: {failure['message']}")
        if junit:
            Path(junit).write_bytes(junit_xml(found, number, results))
        failed = sum(not r["passed"] for r in results)
        line = f"{len(results) - failed} passed, {failed} failed: {found.name!r} version {number}"
        if failed:
            raise CommandError(line, returncode=1)
        self.stdout.write(line)

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


def junit_xml(workflow: Workflow, version: int, results: list[dict[str, Any]]) -> bytes:
    """The results as JUnit XML, which CI systems show: one testsuite (the workflow), one
    testcase per step test (classname: its step), a failure element per broken expectation."""
    seconds = [(r["duration_ms"] or 0) / 1000 for r in results]
    suites = ET.Element("testsuites")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=workflow.name,
        tests=str(len(results)),
        failures=str(sum(not r["passed"] for r in results)),
        errors="0",
        time=f"{sum(seconds):.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="workflow", value=str(workflow.pk))
    ET.SubElement(properties, "property", name="version", value=str(version))
    for result, time_s in zip(results, seconds, strict=True):
        case = ET.SubElement(
            suite, "testcase", name=result["name"], classname=result["node"], time=f"{time_s:.3f}"
        )
        for failure in result["failures"]:
            element = ET.SubElement(
                case, "failure", message=failure["message"], type=failure["kind"]
            )
            element.text = failure["message"]
        if result["run"] is not None:
            ET.SubElement(case, "system-out").text = f"test run {result['run']}"
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)
