"""The README's screenshot of the designer: the invoice-approval example on the canvas, one
step selected with its configuration form. Run it again when the designer's look changes:

    .venv/bin/python scripts/screenshot.py [--out docs/designer.png]

Starts the web server alone on a fresh data dir (as bench/designer_canvas.py does), loads the
examples for a user, and photographs the page in Debian's Chromium.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.designer_canvas import PASSWORD, USERNAME, free_port, log_in, start_web  # noqa: E402
from bench.harness import ROOT, Bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "designer.png")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    bench = Bench(scale_out=False, workers=1)
    web = None
    try:
        from django.contrib.auth.models import User

        from designer.examples import load_examples
        from designer.models import Workflow

        user = User.objects.create_user(USERNAME, password=PASSWORD)
        load_examples(user)
        workflow = Workflow.objects.get(name="Invoice approval")
        port = free_port()
        web = start_web(bench, port)
        shoot(f"http://127.0.0.1:{port}", workflow.pk, args)
    finally:
        if web is not None:
            web.terminate()
            web.wait(30)
        bench.close()
    print(f"wrote {args.out}")


def shoot(base: str, workflow_id: int, args) -> None:
    from playwright.sync_api import expect, sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 860}, device_scale_factor=1)
        log_in(page, base)
        page.goto(f"{base}/designer/{workflow_id}")
        expect(page.get_by_label("Graph size")).to_have_text("5 steps, 5 connections")
        page.locator('.react-flow__node[data-id="approve"]').click()
        expect(page.get_by_role("complementary", name="Configure approve")).to_be_visible()
        page.get_by_role("button", name="Fit View").click()
        page.wait_for_timeout(500)  # the fit animation; a photograph, not a test
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()


if __name__ == "__main__":
    main()
