"""What a browser downloads for the app's first page, and for each page loaded on demand, from
the built front end's Vite manifest: gzipped JavaScript and CSS.

    .venv/bin/python bench/first_page.py [--dist frontend/dist]

The first page is the entry ``src/main.tsx`` with every chunk it imports statically (what the
browser fetches before it draws anything); a lazy page costs the chunks it adds to those.
Sizes are each file gzipped at level 9, as WhiteNoise serves them compressed.
"""

import argparse
import gzip
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from bench.harness import ROOT  # noqa: E402

ENTRY = "src/main.tsx"


def closure(manifest: dict, key: str) -> set[str]:
    """``key`` and every chunk it imports statically, transitively."""
    seen: set[str] = set()
    todo = [key]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(manifest[name].get("imports", []))
    return seen


def gzipped(dist: Path, files: set[str]) -> int:
    return sum(len(gzip.compress((dist / f).read_bytes(), 9)) for f in files)


def sizes(dist: Path, manifest: dict, chunks: set[str]) -> tuple[int, int]:
    js = {manifest[c]["file"] for c in chunks}
    css = {f for c in chunks for f in manifest[c].get("css", [])}
    return gzipped(dist, js), gzipped(dist, css)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "frontend" / "dist")
    args = parser.parse_args()
    manifest = json.loads((args.dist / ".vite" / "manifest.json").read_text())

    first = closure(manifest, ENTRY)
    js, css = sizes(args.dist, manifest, first)
    print("| page | JS gzipped (kB) | CSS gzipped (kB) | files |")
    print("|---|---|---|---|")
    row = "| {} | {:.1f} | {:.1f} | {} |"
    first_row = f"first page ({ENTRY} and its static imports)"
    print(row.format(first_row, js / 1e3, css / 1e3, len(first)))
    pages = sorted(
        k for k, v in manifest.items() if v.get("isDynamicEntry") and k.startswith("src/pages/")
    )
    for page in pages:
        extra = closure(manifest, page) - first
        js, css = sizes(args.dist, manifest, extra)
        print(row.format(f"+ {page}", js / 1e3, css / 1e3, len(extra)))


if __name__ == "__main__":
    main()
