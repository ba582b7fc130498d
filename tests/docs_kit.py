"""The documentation site for tests: MkDocs' real output (mkdocs.yml, docs/), built once per test
module, or the one ./test.sh built with --strict (FLOWDECK_TEST_DOCS_SITE)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def built_site(scratch: Path) -> Path:
    given = os.environ.get("FLOWDECK_TEST_DOCS_SITE")
    if given and (Path(given) / "index.html").is_file():
        return Path(given)
    site = scratch / "site"
    mkdocs = Path(sys.executable).parent / "mkdocs"
    subprocess.run(
        [str(mkdocs), "build", "--quiet", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        check=True,
    )
    return site
