"""What every read action for a file hands back, the check of a stored key, and the one response.

Each downloadable thing has one read action in the app that owns it (submissions/downloads.py,
compliance/downloads.py, schools/downloads.py). A read action checks the user, validates the
stored key (`open_stored`), writes the access-log row and returns a `Download`; the web view and
the API view both call it and wrap the result with `download_response`. So a page and the API
cannot disagree on who may download, which file is served or what is logged.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import IO
from urllib.parse import quote

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class FileUnavailable(Http404):
    """The object is visible to the user but has no file to give: not finished, gone from storage,
    or its stored key is not where that object's files live. A 404, like a missing object."""


class NotReady(FileUnavailable):
    """The object's file is still being made (an export that has not finished)."""


@dataclass(frozen=True)
class Download:
    handle: IO[bytes]  # open, positioned at the start; the response closes it
    content_type: str
    filename: str = ""  # the name the browser saves it as (Chinese); "" streams it inline (a photo)
    cache_control: str = "no-store"
    # The plain-ASCII name for the rare client that cannot read RFC 5987's filename*; derived
    # from `filename` when empty.
    ascii_filename: str = ""


def download_name(*parts, ext: str) -> str:
    """A saved file's name from its parts (school, report, period, kind ...), joined with "-":
    no path separators or control characters, whatever a school or report is called."""
    cleaned = [re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "_", str(p)).strip(" ._") for p in parts]
    return "-".join(p for p in cleaned if p)[:150] + f".{ext}"


def _ascii_name(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._") or "download"
    ext = re.sub(r"[^A-Za-z0-9]+", "", ext)
    return f"{safe}.{ext}" if ext else safe


def content_disposition(filename: str, ascii_filename: str = "") -> str:
    """`attachment` with an ASCII `filename` fallback and the real name as RFC 5987 `filename*`."""
    fallback = _ascii_name(ascii_filename or filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def open_stored(key, *, under: str) -> IO[bytes]:
    """Open a stored file for reading after checking its key: a relative path inside the folder
    `under` (the one folder where this object's files are written), with no empty, "." or ".."
    component (so no absolute path and no traversal), that exists. A stored key is data, not
    trusted: a row pointing anywhere else (another school's folder, a traversal) is
    FileUnavailable, exactly like a missing file."""
    folder = under.strip("/")
    if not folder or not isinstance(key, str) or not key:
        raise FileUnavailable(_("This file is not available."))
    if "\\" in key or any(part in ("", ".", "..") for part in key.split("/")) or not key.startswith(folder + "/"):
        raise FileUnavailable(_("This file is not available."))
    try:
        if not default_storage.exists(key):
            raise FileUnavailable(_("This file is not available."))
        return default_storage.open(key, "rb")
    except (FileNotFoundError, OSError):
        raise FileUnavailable(_("This file is not available.")) from None


def download_response(download: Download) -> FileResponse:
    """The response for a read action's Download, for the web views and the API alike: the saved
    name in Chinese (RFC 5987 filename*) with an ASCII fallback; Django adds Content-Length."""
    response = FileResponse(download.handle, content_type=download.content_type)
    if download.filename:
        response["Content-Disposition"] = content_disposition(download.filename, download.ascii_filename)
    response["Cache-Control"] = download.cache_control
    # A stored file is never sniffed into something else (an uploaded "photo" rendered as HTML).
    response["X-Content-Type-Options"] = "nosniff"
    return response
