"""The designer's "Run step" in Chromium (issue 18): from the click to the step's output shown
in its panel, for a quick step (a data.transform) and an HTTP step (an http.request to a local
server), each with its upstream step pinned.

    .venv/bin/python bench/step_test.py [--scale-out] [--repeat 30]

Starts daphne and the workers (``manage.py flowdeck_worker``) on a fresh data dir (or
PostgreSQL database with --scale-out), creates the two workflows, logs in, opens each in the
designer and clicks the step's "Run step" ``--repeat`` times (after two warm-up clicks). Each
time is measured in the page: from the click until the panel shows the new test run's output
(the request, the run on a worker, the events over the run's socket and the read of the
output, all as a user waits for them).
"""

import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.designer_canvas import PASSWORD, USERNAME, free_port, log_in, start_web  # noqa: E402
from bench.harness import Bench, arguments, percentile  # noqa: E402

VIEWPORT = {"width": 1440, "height": 900}

# Clicks "Run step" and resolves with the ms until the result region names another test run
# than before and shows its output (not "Reading the output…").
CLICK_AND_WAIT = """
async () => {
  const panel = document.querySelector('[aria-label="Test this step"]');
  const button = [...panel.querySelectorAll("button")]
    .find((b) => b.textContent.trim() === "Run step");
  const runOf = () => {
    const region = document.querySelector('[aria-label="Test result"]');
    const link = region && [...region.querySelectorAll("a")]
      .find((a) => a.textContent.startsWith("Test run"));
    return link ? link.textContent : null;
  };
  const before = runOf();
  const done = () => {
    const region = document.querySelector('[aria-label="Test result"]');
    if (!region || runOf() === before) return false;
    const text = region.textContent;
    return text.includes("Test output") && !text.includes("Reading the output");
  };
  const start = performance.now();
  return await new Promise((resolve, reject) => {
    const observer = new MutationObserver(() => {
      if (done()) { observer.disconnect(); resolve(performance.now() - start); }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    setTimeout(() => { observer.disconnect(); reject(new Error("no output in 30 s")); }, 30000);
    button.click();
  });
}
"""


def create_workflows(url: str) -> dict[str, int]:
    """{case: workflow id}: start > prep > the step measured, prep pinned."""
    from django.contrib.auth.models import User

    from designer.services import do_create_workflow, do_pin

    user = User.objects.create_user(USERNAME, password=PASSWORD)

    def graph(step: dict) -> dict:
        return {
            "format": 1,
            "nodes": [
                {
                    "id": "start",
                    "type": "trigger.manual",
                    "config": {},
                    "position": {"x": 0, "y": 0},
                },
                {
                    "id": "prep",
                    "type": "code.function",
                    "config": {"function": "examples.noop"},
                    "position": {"x": 260, "y": 0},
                },
                {"id": "step", **step, "position": {"x": 520, "y": 0}},
            ],
            "edges": [
                {"id": "e1", "source": "start", "target": "prep"},
                {"id": "e2", "source": "prep", "target": "step"},
            ],
        }

    steps = {
        "quick (data.transform)": {
            "type": "data.transform",
            "config": {"value": {"total": "{{ steps.prep.output.amount * 2 }}"}},
        },
        "HTTP (http.request GET)": {
            "type": "http.request",
            "config": {"url": url + "/orders/{{ steps.prep.output.amount }}", "method": "GET"},
        },
    }
    ids = {}
    for case, step in steps.items():
        workflow = do_create_workflow(actor=user, name=case, graph=graph(step))
        do_pin(actor=user, workflow=workflow, node="prep", output={"amount": 21})
        ids[case] = workflow.pk
    return ids


def measure(base: str, ids: dict[str, int], repeat: int, chromium: str) -> dict[str, list[float]]:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    results: dict[str, list[float]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport=VIEWPORT).new_page()
            page.set_default_timeout(60_000)
            print(f"Chromium {browser.version}, load average {os.getloadavg()[0]:.1f}")
            log_in(page, base)
            for case, workflow_id in ids.items():
                page.goto(f"{base}/designer/{workflow_id}")
                page.locator('.react-flow__node[data-id="step"]').click()
                page.get_by_role("tab", name="Test").click()
                expect(page.get_by_role("button", name="Run step")).to_be_enabled()
                times = results[case] = []
                for i in range(repeat + 2):
                    ms = page.evaluate(CLICK_AND_WAIT)
                    if i >= 2:  # two warm-up clicks: scripts, connections, caches
                        times.append(ms)
                    expect(page.get_by_role("button", name="Run step")).to_be_enabled()
                print(f"  {case}: {', '.join(f'{t:.0f}' for t in times)} ms")
        finally:
            browser.close()
    return results


def main() -> None:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="clicks per step (after 2)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    bench = Bench(args.scale_out, args.workers)
    bench.env["FLOWDECK_HTTP_ALLOW_NETWORKS"] = "127.0.0.1/32"
    from tests.http_server import LocalServer, Reply

    web = None
    with LocalServer() as server:
        server.reply("/orders/21", Reply(200, {"id": 21, "state": "paid"}))
        try:
            ids = create_workflows(server.url(""))
            bench.start_workers(FLOWDECK_HTTP_ALLOW_NETWORKS="127.0.0.1/32")
            port = free_port()
            web = start_web(bench, port)
            results = measure(f"http://127.0.0.1:{port}", ids, args.repeat, args.chromium)
        finally:
            if web is not None:
                web.terminate()
                web.wait(30)
            bench.close()
    print(f'\n"Run step" click → output shown in the panel ({args.repeat} clicks each):')
    for case, times in results.items():
        print(
            f"  {case:<26} p50 {statistics.median(times):6.0f} ms   "
            f"p95 {percentile(times, 0.95):6.0f} ms"
        )


if __name__ == "__main__":
    main()
