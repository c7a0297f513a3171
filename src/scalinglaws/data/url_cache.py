"""A local cache of downloaded files: content stored by sha256, an index from URL to hash.

Layout under the cache folder::

    url/blobs/<sha256>      the content, named by its hash (two URLs with the same content share it)
    url/index.json          {"version": 1, "urls": {url: {"sha256", "bytes", "fetched"}}}

A download streams into a temporary file beside the blobs, hashing as it goes, and is renamed to
its hash only once complete; the index is rewritten the same way. A transfer that fails half-way
therefore leaves nothing in the cache, and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import http.client
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, Optional

from .. import __version__
from ..errors import DataError

CACHE_ENV = "SCALINGLAWS_CACHE_DIR"
OFFLINE_ENV = "SCALINGLAWS_OFFLINE"
INDEX_VERSION = 1
_CHUNK = 1 << 20  # bytes per read: memory stays bounded whatever the file's size
_TRUE = ("1", "true", "yes", "on")


def default_cache_dir() -> Path:
    """``$SCALINGLAWS_CACHE_DIR``, else ``$XDG_CACHE_HOME/scalinglaws``, else ``~/.cache/scalinglaws``."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "scalinglaws"


def offline_from_env() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in _TRUE


class _Broken(Exception):
    """A transfer that ended early; carries how much arrived."""

    def __init__(self, received: int, expected: Optional[int], why: str):
        self.received, self.expected, self.why = received, expected, why
        super().__init__(why)


class UrlCache:
    """Downloads by URL into ``root/url``; see the module docstring for the layout."""

    def __init__(self, root: Path):
        self.root = Path(root) / "url"
        self.blobs = self.root / "blobs"
        self.index_path = self.root / "index.json"

    # looking up ---------------------------------------------------------------------------
    def cached(self, url: str) -> Optional[Path]:
        """The cached content of ``url``, or None (also when the blob has gone or changed size)."""
        entry = self._read_index().get(url)
        if entry is None:
            return None
        return self._blob_if_intact(entry.get("sha256", ""), entry.get("bytes"))

    def by_hash(self, sha256: str) -> Optional[Path]:
        return self._blob_if_intact(sha256, None)

    def _blob_if_intact(self, sha256: str, size: Optional[int]) -> Optional[Path]:
        if not re.fullmatch(r"[0-9a-f]{64}", str(sha256)):  # a hand-edited index entry
            return None
        path = self.blobs / sha256
        try:
            actual = path.stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            return None
        return path if size is None or actual == size else None

    # downloading --------------------------------------------------------------------------
    def download(self, url: str, *, timeout: float, expected_sha256: str = "") -> Path:
        """Fetch ``url`` into the cache and index it; any failure leaves the cache as it was."""
        try:
            self.blobs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DataError(f"cannot create the cache folder {self.blobs} ({exc}); set `cache_dir:` "
                            f"or ${CACHE_ENV} to a writable folder", source=url) from None
        fd, partial = tempfile.mkstemp(prefix=".partial-", dir=self.blobs)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size = _transfer(url, out, timeout)
                out.flush()
                os.fsync(out.fileno())
            if expected_sha256 and sha256 != expected_sha256:
                raise DataError(f"the content has sha256 {sha256}, but the spec expects "
                                f"{expected_sha256} (`sha256:`); the file changed on the server, or "
                                "the hash is wrong. Nothing was cached", source=url)
            blob = self.blobs / sha256
            os.replace(partial, blob)  # atomic: the blob appears complete or not at all
            partial = ""
        finally:
            if partial:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)
        self._remember(url, sha256, size)
        return blob

    def _remember(self, url: str, sha256: str, size: int) -> None:
        # Read-modify-write without a lock: two processes indexing at once may lose one entry,
        # which only costs a later download again; the blob itself is never lost or torn.
        index = self._read_index()
        index[url] = {"sha256": sha256, "bytes": size,
                      "fetched": datetime.datetime.now(datetime.UTC).isoformat(
                          timespec="seconds")}
        text = json.dumps({"version": INDEX_VERSION, "urls": index}, indent=1, sort_keys=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", dir=self.root)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            os.replace(tmp, self.index_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _read_index(self) -> Dict[str, Dict[str, Any]]:
        try:
            text = self.index_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
            urls = data["urls"]
            if data.get("version") != INDEX_VERSION or not isinstance(urls, dict):
                raise ValueError(f"unknown index version {data.get('version')!r}")
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"the cache index is unreadable ({exc}); delete {self.index_path} "
                            "(downloads will be fetched again)") from None
        return urls


def _transfer(url: str, out, timeout: float) -> tuple:
    """Stream ``url`` into ``out``; return (sha256, bytes), or a DataError that says what broke."""
    request = urllib.request.Request(url, headers={"User-Agent": f"scalinglaws/{__version__}"})
    digest, received, expected = hashlib.sha256(), 0, None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                digest.update(chunk)
                out.write(chunk)
                received += len(chunk)
        # http.client returns end-of-file quietly when a connection closes before Content-Length
        # bytes arrived; only counting tells a cut transfer from a complete one.
        if expected is not None and received != expected:
            raise _Broken(received, expected, "the connection closed early")
    except urllib.error.HTTPError as exc:
        raise DataError(f"the server answered {exc.code} {exc.reason}; check the URL. Nothing was "
                        "cached", source=url) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise _timeout(url, timeout) from None
        raise DataError(f"cannot reach the server ({exc.reason}); check the URL and the network, or "
                        f"use a cached copy with `offline: true`. Nothing was cached", source=url) from None
    except TimeoutError:
        raise _timeout(url, timeout, received) from None
    except (_Broken, http.client.HTTPException, ConnectionError) as exc:
        why = exc.why if isinstance(exc, _Broken) else f"{type(exc).__name__}: {exc}"
        of = f" of {expected}" if expected is not None else ""
        raise DataError(f"the transfer broke off after {received}{of} bytes ({why}); nothing was "
                        "cached, try again", source=url) from None
    return digest.hexdigest(), received


def _timeout(url: str, timeout: float, received: int = 0) -> DataError:
    after = f" after {received} bytes" if received else ""
    return DataError(f"no answer within {timeout:g} s{after}; raise `timeout:` or try again later. "
                     "Nothing was cached", source=url)
