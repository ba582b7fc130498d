"""What a task's attachment is, read from its bytes: the allowed types, the clean name, the
digest. No database here; engine/discussion.py stores what passes.

The client's content type and file name extension are never trusted: a browser renders what it
believes a file is, so an executable named ``invoice.pdf`` or an SVG (which can carry script)
must not come back to another user as something it is not. Types are detected by their magic
bytes (the ``filetype`` library); a file with no magic is accepted as plain text only when it
is UTF-8 without NUL and does not look like markup (HTML or SVG sent as text).
"""

import codecs
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import filetype

# Detected type -> what the download says it is.
ALLOWED: dict[str, str] = {
    "application/pdf": "PDF",
    "image/png": "PNG image",
    "image/jpeg": "JPEG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/zip": "ZIP archive",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel workbook",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "PowerPoint",
}
TEXT = "text/plain; charset=utf-8"
HEAD_BYTES = 8192  # what filetype reads; every magic it knows sits in the first few KiB

# Markup that a browser would run if it ever rendered it: refused even as "text".
MARKUP = re.compile(
    rb"^\s*<(?:!doctype\s+html|html|head|body|svg|\?xml|script|iframe|object|embed)\b"
    rb"|<(?:svg|script|iframe)\b",
    re.IGNORECASE,
)


class NotAllowed(ValueError):
    """The file's type is not on the list."""


@dataclass(frozen=True)
class Scanned:
    content_type: str
    size: int
    sha256: str


def scan(chunks: Iterable[bytes]) -> Scanned:
    """Read a file once: its detected type, size and SHA-256. NotAllowed unless the type is
    one of ``ALLOWED`` or plain UTF-8 text."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    # Decoded as it streams, so a 10 MiB file is never held whole; None once it is not text.
    decoder: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")()
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if decoder is not None:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                decoder = None
            if b"\x00" in chunk:
                decoder = None
    if size == 0:
        raise NotAllowed("the file is empty")
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime not in ALLOWED:
            raise NotAllowed(f"files of type {kind.mime} may not be attached")
        return Scanned(kind.mime, size, digest.hexdigest())
    if decoder is None:
        raise NotAllowed("the file's type is unknown (and it is not UTF-8 text)")
    try:
        decoder.decode(b"", final=True)  # a multi-byte character cut at the end
    except UnicodeDecodeError:
        raise NotAllowed("the file's type is unknown (and it is not UTF-8 text)") from None
    if MARKUP.search(head.removeprefix(codecs.BOM_UTF8)):
        raise NotAllowed("HTML, SVG and XML may not be attached (they can carry script)")
    return Scanned(TEXT, size, digest.hexdigest())


NAME_MAX = 200


def clean_name(name: str) -> str:
    """The client's file name as a label: its last path part, without control characters or
    quotes, at most 200 characters (the extension kept); "file" when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        c for c in name if unicodedata.category(c)[0] != "C" and c not in '"<>:|?*'
    ).strip(" .")
    if len(name) > NAME_MAX:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        name = name[: NAME_MAX - len(keep) - 1].rstrip() + ("." + keep if keep else "")
    return name or "file"
