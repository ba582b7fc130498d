"""MkDocs hooks (mkdocs.yml ``hooks``) for the site Flowdeck serves at /docs/.

Inline scripts. Flowdeck's Content-Security-Policy (flowdeck/security.py) runs no inline script,
on /docs/ as on every other page, and the Material theme writes a few into each page (its storage
helpers, the colour scheme chosen before the first paint, the tab that an anchor opens). Each is
moved into a file named after its content and loaded from there, in the same place of the page:
a classic ``<script src>`` without ``async`` or ``defer`` runs where it stands, in document
order, as the inline one did. The policy stays as strict as the app's, with no hash list to keep
in step with the theme; ``tests/browser/test_docs.py`` checks in Chromium that no violation is
reported.

Pipes in tables. A ``|`` inside a code span of a table row is written ``\\|`` in docs/, as GitHub
needs to keep the cell whole when it shows the file; Python-Markdown keeps code spans whole by
itself and would show the backslash, so it is taken out before the page is converted.
"""

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

INLINE = "assets/inline"
SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<code>.*?)</script>", re.DOTALL)
TYPE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)
# Anything else (Material's <script type="application/json" id="__config">) is data, not run.
SCRIPT_TYPES = {"", "text/javascript", "application/javascript", "module"}


def externalise(html: str, site_dir: str, url_of: Callable[[str], str]) -> str:
    """``html`` with every inline script replaced by a ``<script src>`` of a file written
    under ``site_dir``; ``url_of`` makes the file's path (from the site's root) a URL."""

    def replace(match: re.Match[str]) -> str:
        attrs, code = match["attrs"], match["code"]
        kind = TYPE.search(attrs)
        if re.search(r"\ssrc\s*=", attrs, re.IGNORECASE) or (
            kind and kind[1].lower() not in SCRIPT_TYPES
        ):
            return match[0]
        name = f"{INLINE}/{hashlib.sha256(code.encode()).hexdigest()[:20]}.js"
        target = Path(site_dir) / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(code, encoding="utf-8")
        return f'<script{attrs} src="{url_of(name)}"></script>'

    return SCRIPT.sub(replace, html)


CODE_SPAN = re.compile(r"`[^`\n]*`")


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: object) -> str:
    def unescape(match: re.Match[str]) -> str:
        return match[0].replace("\\|", "|")

    return "\n".join(
        CODE_SPAN.sub(unescape, line) if line.lstrip().startswith("|") else line
        for line in markdown.split("\n")
    )


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    # Relative, as every other link of a page: the site works under any path.
    return externalise(output, config.site_dir, lambda name: get_relative_url(name, page.url))


def on_post_template(output_content: str, template_name: str, config: MkDocsConfig) -> str:
    # The 404 page is served at whatever URL was missing: its links are absolute, from the
    # path of site_url (/docs/), as the theme's own are on that page.
    if not template_name.endswith(".html"):
        return output_content
    root = urlsplit(config.site_url or "/").path.rstrip("/") + "/"
    return externalise(output_content, config.site_dir, lambda name: root + name)
