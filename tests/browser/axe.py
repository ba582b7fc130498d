"""Accessibility checks with axe-core (the npm package in frontend/node_modules), injected into
the page by Playwright. The app's CSP allows no inline script, so the page must come from a
context made with ``bypass_csp=True`` (the ``axe_page`` fixture in conftest.py): tests only.

    def test_the_inbox_has_no_serious_violation(axe_page, ...):
        ...open the page with data on it...
        assert_accessible(axe_page)
"""

import json
from pathlib import Path

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
# Violations of these impacts fail a test; "minor" and "moderate" are reported, not failed.
FAILING = ("serious", "critical")


def axe_violations(page, *, include: str | None = None, exclude: list[str] | None = None) -> list:
    """Every violation axe-core finds in the page as it is now (WCAG 2.x A and AA rules)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    context = {
        "include": [include] if include else [["html"]],
        "exclude": [[s] for s in exclude or []],
    }
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    return page.evaluate(
        "([context, options]) => axe.run(context, options).then((r) => r.violations)",
        [context, options],
    )


def describe(violations: list) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            lines.append(
                f"    {json.dumps(node['target'])}: {node['failureSummary'].splitlines()[-1]}"
            )
            lines.append(f"      {node['html'][:300]}")
    return "\n".join(lines)


def assert_accessible(page, **where) -> None:
    """No violation of impact serious or critical in the page (or the part ``include`` names)."""
    bad = [v for v in axe_violations(page, **where) if v["impact"] in FAILING]
    assert not bad, "axe-core found:\n" + describe(bad)
