"""Runs from a file on an http(s) server, downloaded once into a local cache, then parsed as csv,
jsonl or json with the same readers as local files."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import attrs

from ..errors import DataError
from ..fields import field, one_of, positive
from .formats import FORMATS, fields_field, format_from_name, on_missing_field, read_file, records_field
from .table import Table
from .url_cache import CACHE_ENV, OFFLINE_ENV, UrlCache, default_cache_dir, offline_from_env

UNKNOWN_FORMAT = "cannot tell the format from the URL; add `format: csv`, `jsonl` or `json`"


def _http_url(_inst, _attribute, value: str) -> None:
    parts = urlparse(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected an http:// or https:// address, got {value!r}")


def _sha256_or_empty(_inst, _attribute, value: str) -> None:
    if value and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError(f"expected 64 lowercase hex digits (a sha256), got {value!r}")


@attrs.frozen(kw_only=True)
class UrlSource:
    """A csv, jsonl or json file over http(s), cached locally by content hash; works offline."""

    url: str = field(validator=_http_url, doc="The file's http:// or https:// address.")
    format: str = field(default="auto", validator=one_of("auto", *FORMATS), doc=(
        "`csv`, `jsonl` or `json`; `auto` tells it from the URL's suffix."))
    records: str = records_field()
    fields: dict[str, str] = fields_field()
    on_missing: str = on_missing_field()
    delimiter: str = field(default=",", doc="Cell separator, for `format: csv`.")
    offline: bool = field(default=False, doc=(
        f"Use the cache only, never the network (also set by `{OFFLINE_ENV}=1`); a URL that is not "
        "cached is then an error."))
    refresh: bool = field(default=False, doc=(
        "Download again even when the URL is cached (a cached URL is otherwise never re-fetched); "
        "ignored in offline mode."))
    sha256: str = field(default="", validator=_sha256_or_empty, doc=(
        "The content's expected sha256: other content is refused, and a cached copy with this "
        "hash is used without the network."))
    cache_dir: str = field(default="", doc=(
        f"Cache folder, relative to the spec's folder; default `${CACHE_ENV}`, else "
        "`$XDG_CACHE_HOME/scalinglaws`, else `~/.cache/scalinglaws`."))
    timeout: float = field(default=30.0, validator=positive, doc=(
        "Seconds to wait for the server to connect and for each read."))

    def file_format(self) -> str:
        if self.format != "auto":
            return self.format
        fmt = format_from_name(urlparse(self.url).path)
        if fmt is None:
            raise DataError(UNKNOWN_FORMAT, source=self.url)
        return fmt

    def check(self, registry) -> list:
        """Found by `scalinglaws validate`, before anything is downloaded."""
        if self.format == "auto" and format_from_name(urlparse(self.url).path) is None:
            return [(("url",), UNKNOWN_FORMAT)]
        return []

    def load(self, ctx) -> Table:
        fmt = self.file_format()
        root = Path(ctx.base_dir) / self.cache_dir if self.cache_dir else default_cache_dir()
        path = self.fetch(UrlCache(root))
        return read_file(path, fmt, self.url, fields=self.fields, records=self.records,
                         on_missing=self.on_missing, delimiter=self.delimiter)

    def fetch(self, cache: UrlCache) -> Path:
        """The local copy: from the cache when there, else downloaded (unless offline)."""
        offline = self.offline or offline_from_env()
        if self.sha256:
            pinned = cache.by_hash(self.sha256)
            if pinned is not None:
                return pinned
        cached = None if self.refresh and not offline else cache.cached(self.url)
        if cached is not None and (not self.sha256 or cached.name == self.sha256):
            return cached
        if offline:
            why = "`offline: true`" if self.offline else f"{OFFLINE_ENV} is set"
            raise DataError(f"not in the cache ({cache.root}) and offline mode is on ({why}); run "
                            "once with the network to fetch it, or turn offline mode off",
                            source=self.url)
        return cache.download(self.url, timeout=self.timeout, expected_sha256=self.sha256)
