"""The documentation site at /docs/: the files MkDocs built from mkdocs.yml and docs/ into
``settings.DOCS_SITE_DIR`` (``./start.sh`` builds it), served to logged-in users like every
other page of Flowdeck, under the same Content-Security-Policy (scripts/mkdocs_hooks.py moves
the theme's inline scripts into files for it)."""

import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import SuspiciousFileOperation
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
)
from django.shortcuts import render
from django.utils._os import safe_join
from django.utils.http import http_date
from django.views.decorators.http import require_safe
from django.views.static import was_modified_since


def _not_found(request: HttpRequest, site: Path) -> HttpResponse:
    """The theme's own 404 page (its links are absolute from /docs/, so it works at any depth)."""
    page = site / "404.html"
    if not page.is_file():
        raise Http404("no such page in the documentation")
    return HttpResponse(page.read_bytes(), status=404, content_type="text/html; charset=utf-8")


def _file(request: HttpRequest, target: Path) -> HttpResponse:
    modified = target.stat().st_mtime
    if not was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), modified):
        return HttpResponseNotModified()
    content_type, encoding = mimetypes.guess_type(target.name)
    if encoding:  # sitemap.xml.gz: a gzip file to download, not a page to inflate
        content_type = "application/gzip"
    elif content_type is None:
        content_type = "application/octet-stream"
    elif content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
        content_type += "; charset=utf-8"  # MkDocs writes UTF-8
    response = FileResponse(target.open("rb"), content_type=content_type)
    response["Last-Modified"] = http_date(modified)
    # Behind a login: no shared cache keeps it, and a browser asks again after a rebuild.
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
@require_safe
def serve(request: HttpRequest, path: str = "") -> HttpResponse:
    """A file of the built site; a folder's index.html; 404 with how to build the site when it
    is not built."""
    site = Path(settings.DOCS_SITE_DIR)
    if not (site / "index.html").is_file():
        return render(request, "docs_missing.html", status=404)
    # ".." never; dot-files (the build's stamp, .flowdeck-built) are not part of the site.
    if any(part.startswith(".") for part in path.split("/")):
        return _not_found(request, site)
    try:
        target = Path(safe_join(site, path))
    except SuspiciousFileOperation:  # an absolute path, or a link out of the site
        return _not_found(request, site)
    if target.is_dir():
        if path and not path.endswith("/"):
            # The pages' links are relative to their folder: /docs/runs must become /docs/runs/.
            return HttpResponseRedirect(request.get_full_path().replace(path, path + "/", 1))
        target = target / "index.html"
    if not target.is_file():
        return _not_found(request, site)
    return _file(request, target)
