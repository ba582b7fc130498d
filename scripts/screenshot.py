"""Every page of Flowdeck photographed with real data, in light and dark, on a desktop and on a
phone, into docs/screenshots/ (the README and the docs show them). Run it again when a page's
look changes, and look at every picture:

    .venv/bin/python scripts/screenshot.py [--out docs/screenshots] [--only inbox,run-failed]

It starts everything on a fresh data dir (as the benchmarks do): the web server (daphne),
workers, and the examples' demo services on 127.0.0.1:9000 (or uses what already answers
there); then makes the data a team would have after a morning's work through the API: the
examples loaded and run (successes, a retry, a failure, an approval waiting), a rejected
invoice, credentials, a second person, groups; and photographs each page in Debian's Chromium.

Pictures: <page>-<light|dark>.png at 1440 x 900, and <page>-phone-<light|dark>.png at 390 x 844
for the pages people use on a phone (the inbox and the run view).
"""

import argparse
import json
import re
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.designer_canvas import free_port, start_web  # noqa: E402
from bench.harness import ROOT, Bench  # noqa: E402

PASSWORD = "screens-pass-123"  # noqa: S105 (a throwaway data dir)
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SCHEMES = ("light", "dark")


def demo_services() -> None:
    """The services the examples call, on 127.0.0.1:9000, unless something answers there."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 9000)) == 0:
            print("127.0.0.1:9000 answers already: using it as the demo services")
            return
    from designer.demo_services import DemoServer

    server = DemoServer(port=9000)
    threading.Thread(target=server.serve_forever, daemon=True).start()


class Api:
    """The JSON API in this process, as a logged-in user (the workers run the runs)."""

    def __init__(self, user) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(user)

    def call(self, method: str, path: str, body=None, ok=(200, 201)):
        response = getattr(self.client, method)(
            path, json.dumps(body) if body is not None else None, content_type="application/json"
        )
        if response.status_code not in ok:
            raise RuntimeError(
                f"{method.upper()} {path}: {response.status_code} {response.content!r}"
            )
        return response.json() if response.content else None

    def start(self, workflow: str, data: dict | None, **extra) -> int:
        flow = next(
            w
            for w in self.call("get", "/api/workflows/?page_size=100")["results"]
            if w["name"] == workflow
        )
        body = ({} if data is None else {"input": data}) | extra
        return self.call("post", f"/api/workflows/{flow['id']}/runs/", body)["id"]


def wait_for(predicate, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.3)


def make_data() -> dict:
    """A morning's work; returns the ids the pictures need."""
    from django.contrib.auth.models import Group, User

    from connectors.credentials import do_create_credential
    from designer.examples import load_examples
    from designer.models import Role, Workflow
    from designer.services import do_grant
    from engine.models import HumanTask, Run
    from people.groups import do_ensure_groups

    admin = User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    admin.first_name, admin.last_name = "Ada", "Admin"
    admin.save()
    maria = User.objects.create_user("maria", "maria@example.com", PASSWORD, first_name="Maria")
    User.objects.create_user("sam", "sam@example.com", PASSWORD, first_name="Sam", last_name="Ops")
    for group in do_ensure_groups(actor=admin, names=["finance", "finance-leads", "operations"]):
        group.user_set.add(admin)
        if group.name != "finance-leads":
            group.user_set.add(maria)
    load_examples(admin)
    # The finance team starts invoices.
    finance = Group.objects.get(name="finance")
    invoices = Workflow.objects.get(owner=admin, name="Invoice approval")
    do_grant(actor=admin, workflow=invoices, role=Role.RUNNER, group=finance)
    do_create_credential(
        actor=admin,
        name="CRM API",
        kind="http_bearer",
        data={"token": "crm-demo-token"},
        description="The CRM's REST API, read and write",
    )
    do_create_credential(
        actor=admin,
        name="Mail relay",
        kind="smtp",
        data={
            "host": "smtp.example.com",
            "port": 587,
            "security": "starttls",
            "username": "flowdeck",
            "password": "relay-demo-pass",
            "from_email": "flowdeck@example.com",
        },
        description="Outgoing mail for notifications",
    )

    # The CRM has been answering 503: its circuit breaker is open (the dashboard and the
    # credentials page show it), opened through the breaker's own code as a step would.
    from engine import breakers

    crm = breakers.Thresholds(failures=3, window_s=300, open_s=600)
    for _ in range(3):
        permit = breakers.guard("credential", "CRM API", crm)
        breakers.report(permit, "failure", {"code": "http_status", "message": "503 from the CRM"})

    api = Api(admin)
    as_maria = Api(maria)
    done = []
    for customer in ("acme", "globex", "initech", "umbrella"):
        done.append(api.start("Parallel fan-out with a join", {"customer": customer}))
    for _ in range(3):
        done.append(api.start("Fetch and transform", {"url": "http://127.0.0.1:9000/orders"}))
    done.append(
        api.start("Price one order line", {"sku": "desk", "quantity": 2, "unit_price": 640})
    )
    done.append(api.start("Nightly report", None))
    lines = [
        {"sku": "desk", "quantity": 1, "unit_price": 640},
        {"sku": "lamp", "quantity": 2, "unit_price": 45},
    ]
    done.append(
        api.start(
            "Route an order",
            {"order_id": "A-1001", "country": "FR", "lines": lines, "cooling_off_s": 0},
        )
    )
    failed = api.start(
        "Route an order",
        {"order_id": "A-1002", "country": "XX", "lines": lines, "cooling_off_s": 0},
    )
    done.append(
        api.start(
            "Invoice approval",
            {"invoice": "INV-2291", "amount": 380, "supplier": "Papeterie Martin"},
        )
    )
    rejected = as_maria.start(
        "Invoice approval", {"invoice": "INV-2294", "amount": 9800, "supplier": "Globex"}
    )
    # Due this week: maria asks for it first.
    waiting = as_maria.start(
        "Invoice approval",
        {"invoice": "INV-2301", "amount": 4200, "supplier": "Acme Tools"},
        priority="high",
    )
    wait_for(
        lambda: HumanTask.objects.filter(run_id=rejected, status="open").exists(),
        "the rejected invoice's task",
    )
    task = HumanTask.objects.get(run_id=rejected, status="open")
    api.call(
        "post",
        f"/api/approvals/{task.pk}/decide/",
        {"decision": "reject", "comment": "Not in this quarter's budget"},
    )
    wait_for(
        lambda: HumanTask.objects.filter(run_id=waiting, status="open").exists(),
        "the waiting invoice's task",
    )
    # The saga example: the declined card fails the payment, the reservations are undone.
    trip = {
        "trip": "TRIP-42",
        "from": "AMS",
        "to": "LIS",
        "nights": 3,
        "card": "4000 0000 0000 0002",
    }
    compensated = api.start("Book a trip", trip)
    ended = done + [failed, rejected, compensated]
    wait_for(
        lambda: (
            Run.objects.filter(
                pk__in=ended, status__in=["succeeded", "failed", "cancelled"]
            ).count()
            == len(ended)
        ),
        "the runs to end",
        timeout=240,
    )
    return {
        "waiting": waiting,
        "failed": failed,
        "compensated": compensated,
        # Two invoices, one approved and one rejected: the runs compared.
        "approved": done[-1],
        "rejected": rejected,
        "task": HumanTask.objects.get(run_id=waiting, status="open").pk,
    }


def log_in(page, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def settle(page) -> None:
    """Wait until nothing is loading and animations have ended; a photograph, not a test."""
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(700)


def pages(ids: dict) -> dict:
    """name -> (path, what to do on the page before the picture, phone too?)."""
    from playwright.sync_api import expect

    def designer(page, phone):
        expect(page.locator('.react-flow__node[data-id="approve"]')).to_be_visible()
        page.locator('.react-flow__node[data-id="approve"]').click()

    def run_running(page, phone):
        expect(page.get_by_role("status", name="Live updates")).to_contain_text("live")
        if not phone:  # on a phone the step's sheet would cover the graph
            page.locator('.react-flow__node[data-id="approve"]').first.click()

    def run_failed(page, phone):
        expect(page.get_by_role("status", name="Live updates")).to_contain_text("live")
        page.get_by_role("button", name="Show the failed step").click()

    def run_compensated(page, phone):
        expect(page.get_by_role("status", name="Run status")).to_contain_text("failed")
        if not phone:
            # The inspector says what the compensation undid; the page back at its top.
            page.locator('.run-step[data-id="cancel_hotel"]').click()
            expect(page.get_by_role("region", name="Step cancel_hotel details")).to_be_visible()
            page.evaluate("window.scrollTo(0, 0)")

    def inbox(page, phone):
        page.get_by_text(re.compile("INV-2301")).first.click()

    def designer_test(page, phone):
        # The Test tab of a step, after Run step: its output, from a worker, over the socket.
        expect(page.locator('.react-flow__node[data-id="shape"]')).to_be_visible()
        page.locator('.react-flow__node[data-id="shape"]').click()
        page.get_by_role("tab", name="Test").click()
        page.get_by_role("button", name="Run step").click()
        expect(page.get_by_role("region", name="Test result")).to_contain_text("Test output")

    def compare(page, phone):
        expect(page.get_by_role("table").first).to_be_visible()

    def nothing(page, phone):
        return None

    def breakers(page, phone):
        panel = page.get_by_role("region", name="Circuit breakers")
        expect(panel).to_contain_text("CRM API")
        panel.scroll_into_view_if_needed()

    return {
        "workflows": ("/workflows", nothing, False),
        "designer": (f"/designer/{ids['invoice']}", designer, False),
        "designer-test": (f"/designer/{ids['fetch']}", designer_test, False),
        "compare": (f"/runs/compare/{ids['approved']}/{ids['rejected']}", compare, True),
        "run-running": (f"/runs/{ids['waiting']}", run_running, True),
        "run-failed": (f"/runs/{ids['failed']}", run_failed, False),
        "run-compensated": (f"/runs/{ids['compensated']}", run_compensated, True),
        "runs": ("/runs", nothing, False),
        "inbox": ("/inbox", inbox, True),
        "dashboard": ("/dashboard", nothing, False),
        "dashboard-breakers": ("/dashboard", breakers, False),
        "credentials": ("/credentials", nothing, False),
        "people": ("/people", nothing, False),
    }


def shoot(base: str, ids: dict, out: Path, only: set[str], chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        for scheme in SCHEMES:
            for phone in (False, True):
                context = browser.new_context(
                    viewport=PHONE if phone else DESKTOP,
                    color_scheme=scheme,
                    device_scale_factor=1,
                    is_mobile=phone,
                    has_touch=phone,
                )
                page = context.new_page()
                page.set_default_timeout(30_000)
                suffix = f"{'-phone' if phone else ''}-{scheme}"
                if not phone and (not only or "login" in only):
                    page.goto(f"{base}/login/")
                    settle(page)
                    written.append(out / f"login{suffix}.png")
                    page.screenshot(path=str(written[-1]))
                log_in(page, base)
                for name, (path, prepare, on_phone) in pages(ids).items():
                    if (phone and not on_phone) or (only and name not in only):
                        continue
                    page.goto(f"{base}{path}")
                    settle(page)
                    prepare(page, phone)
                    settle(page)
                    # Off the page: a tap or click left the pointer over something whose
                    # tooltip would cover the picture.
                    page.mouse.move(0, 0)
                    written.append(out / f"{name}{suffix}.png")
                    page.screenshot(path=str(written[-1]))
                    print(f"wrote {written[-1]}")
                context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--only", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    import os

    # The examples call the demo services; http.request may reach that one port.
    os.environ["FLOWDECK_HTTP_ALLOW_NETWORKS"] = "127.0.0.1:9000"
    bench = Bench(scale_out=False, workers=2)
    web = None
    try:
        demo_services()
        bench.start_workers()
        ids = make_data()
        from designer.models import Workflow

        ids["invoice"] = Workflow.objects.get(name="Invoice approval").pk
        ids["fetch"] = Workflow.objects.get(name="Fetch and transform").pk
        port = free_port()
        web = start_web(bench, port)
        args.out.mkdir(parents=True, exist_ok=True)
        only = {name for name in args.only.split(",") if name}
        shoot(f"http://127.0.0.1:{port}", ids, args.out, only, args.chromium)
    finally:
        if web is not None:
            web.terminate()
            web.wait(30)
        bench.close()


if __name__ == "__main__":
    main()
