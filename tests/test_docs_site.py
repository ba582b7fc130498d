"""/docs/ (flowdeck/docs.py): the documentation site MkDocs built, served to logged-in users,
a folder's index.html, types a browser trusts, the theme's 404 for a missing page, and a page
that says how to build the site when it is not built; the build's own rules (no inline script
left, GitHub's escaped pipes) and the README's links."""

import re
from pathlib import Path

import pytest
from django.test import Client

from scripts.mkdocs_hooks import externalise, on_page_markdown
from tests.docs_kit import ROOT, built_site

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings, tmp_path) -> Path:
    """A small built site: pages, assets, the theme's 404 page, the build's stamp."""
    files = {
        "index.html": "<!doctype html><title>Flowdeck docs</title><h1>Home</h1>",
        "runs/index.html": "<!doctype html><title>Runs</title><h1>Runs</h1>",
        "404.html": "<!doctype html><title>404</title><h1>Not found here</h1>",
        "assets/javascripts/bundle.js": "console.log(1)",
        "assets/stylesheets/main.css": "body{}",
        "search/search_index.json": '{"docs": []}',
        "assets/images/favicon.png": "png",
        "sitemap.xml.gz": "gz",
        ".flowdeck-built": "1c28886c3538ee95",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    settings.DOCS_SITE_DIR = tmp_path
    return tmp_path


@pytest.fixture
def alice_client(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def test_anonymous_is_sent_to_the_login_page(site):
    response = Client().get("/docs/runs/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/docs/runs/"


def test_a_folder_is_its_index_page(site, alice_client):
    response = alice_client.get("/docs/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert b"<h1>Home</h1>" in b"".join(response.streaming_content)
    runs = alice_client.get("/docs/runs/")
    assert b"<h1>Runs</h1>" in b"".join(runs.streaming_content)


def test_a_folder_without_its_slash_is_redirected_to_it(site, alice_client):
    # The pages' links are relative to their folder.
    response = alice_client.get("/docs/runs?q=1")
    assert response.status_code == 302
    assert response["Location"] == "/docs/runs/?q=1"
    assert alice_client.get("/docs").headers["Location"] == "/docs/"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("assets/javascripts/bundle.js", "text/javascript; charset=utf-8"),
        ("assets/stylesheets/main.css", "text/css; charset=utf-8"),
        ("search/search_index.json", "application/json; charset=utf-8"),
        ("assets/images/favicon.png", "image/png"),
        ("sitemap.xml.gz", "application/gzip"),
    ],
)
def test_each_file_has_its_content_type(site, alice_client, path, content_type):
    response = alice_client.get(f"/docs/{path}")
    assert response.status_code == 200
    # Python 3.11's mimetypes says application/javascript, later ones text/javascript.
    assert response["Content-Type"] in (
        content_type,
        content_type.replace("text/javascript", "application/javascript"),
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-cache"


def test_an_unchanged_file_is_not_sent_again(site, alice_client):
    first = alice_client.get("/docs/assets/stylesheets/main.css")
    again = alice_client.get(
        "/docs/assets/stylesheets/main.css", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["nothing/", "nothing.html", ".flowdeck-built", "runs/../../settings.py", "%2e%2e/x"]
)
def test_a_missing_page_is_the_sites_404(site, alice_client, path):
    response = alice_client.get(f"/docs/{path}")
    assert response.status_code == 404
    assert b"Not found here" in response.content


def test_a_site_not_built_is_a_404_that_says_how_to_build_it(settings, tmp_path, alice_client):
    settings.DOCS_SITE_DIR = tmp_path / "site"
    response = alice_client.get("/docs/")
    assert response.status_code == 404
    assert b"The documentation is not built" in response.content
    assert b".venv/bin/mkdocs build" in response.content
    assert b"./start.sh" in response.content


def test_docs_are_read_not_written(site, alice_client):
    assert alice_client.post("/docs/").status_code == 405
    assert alice_client.head("/docs/").status_code == 200


def test_the_pages_get_the_apps_policy_without_eval(site, alice_client):
    policy = alice_client.get("/docs/")["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split("style-src")[0]


# --- The build (scripts/mkdocs_hooks.py) ----------------------------------------------------------


def test_inline_scripts_become_files_and_data_blocks_stay(tmp_path):
    html = (
        "<head><script>var a = 1;</script></head><body>"
        '<script id="__config" type="application/json">{"base": "."}</script>'
        '<script src="assets/bundle.js"></script>'
        '<script type="text/javascript">var b = 2;</script></body>'
    )
    out = externalise(html, str(tmp_path), lambda name: "../" + name)
    scripts = re.findall(r"<script[^>]*>[^<]*</script>", out)
    assert scripts[1] == '<script id="__config" type="application/json">{"base": "."}</script>'
    assert scripts[2] == '<script src="assets/bundle.js"></script>'
    for tag, code in ((scripts[0], "var a = 1;"), (scripts[3], "var b = 2;")):
        name = re.search(r'src="\.\./(assets/inline/[0-9a-f]{20}\.js)"', tag)[1]
        assert (tmp_path / name).read_text() == code
        assert tag.endswith("></script>") and code not in tag


def test_escaped_pipes_in_a_tables_code_are_plain_pipes_on_the_site():
    markdown = "a `x\\|y` b\n| `?status=open\\|closed` | open\\|closed |\n"
    assert on_page_markdown(markdown, None, None, None) == (
        "a `x\\|y` b\n| `?status=open|closed` | open\\|closed |\n"
    )


@pytest.fixture(scope="module")
def real_site(tmp_path_factory) -> Path:
    return built_site(tmp_path_factory.mktemp("docs"))


def test_no_page_of_the_real_site_has_an_inline_script(real_site):
    pages = list(real_site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        for attrs, code in re.findall(r"<script([^>]*)>(.*?)</script>", page.read_text(), re.S):
            runs = "application/json" not in attrs
            assert not (runs and code.strip()), f"{page}: inline script {code[:80]!r}"
    assert (real_site / "api/reference/index.html").stat().st_size > 100_000  # the OpenAPI


# --- The README ---------------------------------------------------------------------------------


def test_the_readmes_links_lead_to_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(((?!https?:)[^)#\s]+)", readme)
    assert "docs/getting-started.md" in targets
    for target in targets:
        if target.startswith("docs/screenshots/") and not (ROOT / "docs/screenshots").exists():
            continue  # scripts/screenshot.py writes them; once it has, they are checked too
        assert (ROOT / target).exists(), f"README.md links to {target}, which does not exist"
