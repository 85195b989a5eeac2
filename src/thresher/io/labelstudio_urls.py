"""Image URLs Label Studio opens, and the way back from a URL to the file it names.

Label Studio does not open file-system paths (they import but never display). It opens:

- its local-files form, `/data/local-files/?d=<path relative to LOCAL_FILES_DOCUMENT_ROOT>`,
  served when Label Studio runs with `LOCAL_FILES_SERVING_ENABLED=true` and the project (or any
  project of the user) has a local-files storage whose path holds the file (checked in
  label_studio/io_storages/localfiles/views.py of 1.23);
- any http(s) URL, e.g. under a folder an http server serves.

The path is percent-encoded as Label Studio's own local-files storage encodes it
(`urllib.parse.quote`, "/" kept): `a b.png` → `a%20b.png`.

Example: `local_files_url("/data/ws/runs/r1/images/a b.png", "/data/ws")`
→ `/data/local-files/?d=runs/r1/images/a%20b.png`.
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import parse_qs, quote, unquote, urlsplit

LOCAL_FILES_PATH = "/data/local-files/"


def local_files_url(path: str | os.PathLike, document_root: str | os.PathLike) -> str:
    """The local-files URL of `path` (absolute or relative to the same folder as `document_root`)."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(document_root))
    if relative == os.curdir or relative.startswith(os.pardir):
        raise ValueError(f"{path} is not inside the document root {document_root}")
    return f"{LOCAL_FILES_PATH}?d={quote(relative.replace(os.sep, '/'))}"


def served_url(root: str, name: str) -> str:
    """`root/<name>` with the name percent-encoded ("/" kept): the file `name` of a served folder."""
    return f"{root.rstrip('/')}/{quote(name)}"


def path_of_url(url: str) -> str:
    """The file path a Label Studio image value names, decoded: the `d` of a local-files URL
    (`runs/r1/images/a b.png`), else the URL's path (`/images/a b.png`), else the value itself."""
    parts = urlsplit(url)
    if parts.path.rstrip("/") == LOCAL_FILES_PATH.rstrip("/"):
        values = parse_qs(parts.query).get("d")
        if values:
            return posixpath.normpath(values[0]).lstrip("/")
    if parts.scheme or parts.netloc or parts.path.startswith("/"):
        return unquote(parts.path)
    return url
