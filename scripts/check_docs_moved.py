"""Check that nothing of an old README was lost when its reference moved into docs/ (issue 17,
item 9): every heading, every line of code and every sentence of every paragraph, list item and
table cell of the old file must be found in docs/*.md, after Markdown link syntax, emphasis, list
markers and line breaks are taken away; or be one of the rewrites listed in REWRITTEN, each with
where it went.

    git show 08fcb60:README.md > /tmp/old-readme.md
    .venv/bin/python scripts/check_docs_moved.py /tmp/old-readme.md

Run it again after merging README changes made meanwhile: their text belongs in docs/ now.
"""

import re
import sys
from pathlib import Path

# Old text (the start of a sentence or heading) -> what became of it.
REWRITTEN = {
    "The public contract (graph JSON": "index.md: links to designer/format.md and api/index.md "
    "(../shared/CONTRACT.md is outside the repository)",
    "Status: the foundation": "index.md: 'the two commands below' links to getting-started.md",
    "It creates `.venv`, installs": "getting-started.md: also builds this documentation",
    "Fuzzing the API.": "operations/testing.md: the heading 'Fuzzing the API'",
    "`./start.sh` (or `manage.py serve`) behind": "deployment/index.md: 'backup below' links to "
    "operations/backups.md",
    "`bench/load.py` starts exactly this": "deployment/index.md: '`bench/README.md` in the "
    "repository'",
    "Back up the database (below).": "operations/upgrades.md: links to backups.md",
    "`git pull`, then the installs": "operations/upgrades.md: setup_docs added",
    "## Users and API access": "split: api/index.md (tokens, login, rate limits) and "
    "security/people-and-access.md (users, groups, passwords)",
    "A Chromium test (`tests/browser/test_csp.py`)": "security/index.md: test_docs.py added",
    "The README's picture is made by": "designer/index.md: 'The pictures in this documentation'",
    "## Workflows and the API": "designer/workflows.md (the API table), api/errors.md (errors), "
    "getting-started.md (the examples)",
    "A workflow is a graph (CONTRACT §1)": "designer/workflows.md: links to format.md",
    "`/api/docs/`; the schema:": "designer/workflows.md: 'Interactive docs: ... on the running "
    "server'",
    "`/api/schema/` (committed as": "designer/workflows.md, with a link to api/reference.md",
    "From the shell:": "designer/workflows.md and runs/index.md: headings 'From the shell'",
    '"Invoice approval": a big invoice': "getting-started.md: the groups are created at the "
    "first start, with the first administrator in them",
    "Each step becomes one attempt": "runs/index.md: CONTRACT §2 -> designer/expressions.md",
    "How a run behaves:": "runs/index.md: the heading 'How a run behaves'",
    "`input.items` means the input's key": "runs/index.md: '(below)' links to "
    "designer/expressions.md",
    "Expressions and templates (CONTRACT §2)": "designer/expressions.md: links to format.md",
    "An `http.request` step sends one request": "connectors/http-request.md: links to the catalog",
    "New tasks appear and decided ones leave": "human-tasks.md: links to runs/live-updates.md",
    "Starting a run has the same protection": "human-tasks.md: '(above)' links to runs/index.md",
    "Websockets (CONTRACT §6) push": "runs/live-updates.md",
    "## Stats and metrics": "split: runs/dashboard.md (/api/stats/), operations/metrics.md",
    "Retrying a decision.": "human-tasks.md: a heading",
    "The URL.": "connectors/webhooks.md: a heading",
    "What a request goes through, in this order": "connectors/webhooks.md: a heading, and "
    "'A request goes through these checks in this order'",
    "Signing.": "connectors/webhooks.md: a heading",
    "Idempotency.": "connectors/webhooks.md: a heading",
    "Waiting for the result.": "connectors/webhooks.md: a heading",
    "`setup.sh` (shared by the two commands)": "development.md: mkdocs_hooks.py added",
    "images for this README": "development.md: 'this documentation ... and its images'",
    "the login page and the page that hosts the app": "development.md: and the page /docs/ "
    "shows until the documentation is built",
}


def normalise(text: str) -> str:
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)  # placeholders are not content
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("**", "")
    text = re.sub(r"^\s*(?:[-*]|\d+\.|>)\s+", " ", text, flags=re.MULTILINE)
    text = re.sub(r"^#+\s+", " ", text, flags=re.MULTILINE)
    return re.sub(r"\s+", " ", text).strip()


def pieces(block: list[str]) -> list[str]:
    text = normalise("\n".join(block))
    if text.startswith("|"):
        found = [cell.strip() for cell in text.strip("|").split(" | ")]
    else:
        found = re.split(r"(?<=[.;:!?])\s+(?=[A-Z`(\"'])", text)
    return [p for p in found if len(p) >= 4 and not set(p) <= set("|-: ")]


def missing_from(old: str, docs_dir: Path) -> list[str]:
    raw = "\n".join(path.read_text() for path in sorted(docs_dir.rglob("*.md")))
    docs, code_lines = normalise(raw), {line.rstrip() for line in raw.splitlines()}
    missing: list[str] = []
    block: list[str] = []

    def close() -> None:
        missing.extend(p for p in pieces(block) if p not in docs)
        block.clear()

    in_code = False
    for line in old.splitlines():
        if line.startswith("```"):
            close()
            in_code = not in_code
        elif in_code:
            if line.strip() and line.rstrip() not in code_lines:
                missing.append(line)
        elif line.startswith("#"):
            close()
            if normalise(line) not in docs:
                missing.append(line)
        elif not line.strip() or line.startswith("|") or re.match(r"\s*(?:[-*]|\d+\.)\s", line):
            close()
            if line.strip():
                block.append(line)
        else:
            block.append(line)
    close()
    return [m for m in missing if not any(m.startswith(old) for old in REWRITTEN)]


def main() -> int:
    old = Path(sys.argv[1]).read_text()
    docs_dir = Path(sys.argv[2] if len(sys.argv) > 2 else "docs")
    missing = missing_from(old, docs_dir)
    for piece in missing:
        print(f"not in {docs_dir}/: {piece}")
    print(f"{len(missing)} pieces of {sys.argv[1]} missing from {docs_dir}/")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
