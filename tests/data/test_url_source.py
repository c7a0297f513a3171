"""The url source against an HTTP server on 127.0.0.1: downloads, the content-addressed cache,
transfers that break off (nothing cached), offline mode, pinned hashes and timeouts."""

import hashlib
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from source_helpers import jsonl, make_ctx

from scalinglaws import DataError
from scalinglaws.data.url_cache import UrlCache, default_cache_dir
from scalinglaws.data.url_source import UrlSource

CSV = b"N,D,loss\n1e8,2e9,3.1\n2e8,2e9,2.9\n4e8,2e9,2.7\n"
JSONL = jsonl({"cfg": {"N": 1e8}, "val": {"loss": 3.1}}, {"cfg": {"N": 2e8}, "val": {"loss": 2.9}}).encode()
JSON = json.dumps({"data": {"runs": [{"N": 1e8, "loss": 3.1}, {"N": 2e8, "loss": 2.9}]}}).encode()


class Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes``: bytes as they are, or ("truncate", bytes), or "stall"."""

    timeout = 5  # a client that stops talking cannot hold a server thread for long

    def do_GET(self):
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
        elif route == "stall":  # headers, then silence until the test ends
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.flush()
            self.server.release.wait(5)
        elif isinstance(route, tuple):  # promise the whole body, send half, hang up
            body = route[1]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send_response(200)
            self.send_header("Content-Length", str(len(route)))
            self.end_headers()
            self.wfile.write(route)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.routes, srv.requests, srv.release = {}, [], threading.Event()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    srv.url = lambda path: f"http://127.0.0.1:{srv.server_address[1]}{path}"
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """No test touches the user's cache or inherits offline mode from the environment."""
    monkeypatch.delenv("SCALINGLAWS_OFFLINE", raising=False)
    monkeypatch.setenv("SCALINGLAWS_CACHE_DIR", str(tmp_path / "env-cache"))


def source(url, **options):
    return UrlSource(url=url, cache_dir="cache", timeout=5, **options)


def cache_files(tmp_path):
    root = tmp_path / "cache"
    if not root.exists():
        return []
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_download_parses_and_caches_by_content_hash(tmp_path, server):
    server.routes["/runs.csv"] = CSV
    table = source(server.url("/runs.csv")).load(make_ctx(tmp_path))
    assert list(table["loss"]) == [3.1, 2.9, 2.7]
    digest = hashlib.sha256(CSV).hexdigest()
    assert cache_files(tmp_path) == [f"url/blobs/{digest}", "url/index.json"]
    index = json.loads((tmp_path / "cache/url/index.json").read_text())
    assert index["urls"][server.url("/runs.csv")]["sha256"] == digest


def test_second_load_is_a_cache_hit_without_a_request(tmp_path, server):
    server.routes["/runs.csv"] = CSV
    source(server.url("/runs.csv")).load(make_ctx(tmp_path))
    again = source(server.url("/runs.csv")).load(make_ctx(tmp_path))
    assert len(again) == 3 and server.requests == ["/runs.csv"]


def test_jsonl_and_json_use_the_file_readers(tmp_path, server):
    server.routes.update({"/runs.jsonl": JSONL, "/export": JSON})
    table = source(server.url("/runs.jsonl"), fields={"N": "cfg.N", "loss": "val.loss"}).load(
        make_ctx(tmp_path))
    assert list(table["N"]) == [1e8, 2e8]
    table = source(server.url("/export"), format="json", records="data.runs").load(make_ctx(tmp_path))
    assert list(table["loss"]) == [3.1, 2.9]


def test_csv_fields_pick_and_rename_header_columns(tmp_path, server):
    server.routes["/runs.csv"] = CSV
    table = source(server.url("/runs.csv"), fields={"params": "N", "loss": "loss"}).load(make_ctx(tmp_path))
    assert table.names == ["params", "loss"]
    with pytest.raises(DataError, match=r"/runs.csv, column 'los': no column 'los' \(did you mean "
                                        r"'loss'\?\)"):
        source(server.url("/runs.csv"), fields={"loss": "los"}).load(make_ctx(tmp_path))


def test_parse_errors_name_the_url_and_line(tmp_path, server):
    server.routes["/runs.jsonl"] = JSONL + b'{"cfg": \n'
    with pytest.raises(DataError, match=rf"^{server.url('/runs.jsonl')} line 3: not valid JSON"):
        source(server.url("/runs.jsonl")).load(make_ctx(tmp_path))


def test_transfer_that_breaks_off_caches_nothing(tmp_path, server):
    server.routes["/runs.csv"] = ("truncate", CSV)
    with pytest.raises(DataError) as info:
        source(server.url("/runs.csv")).load(make_ctx(tmp_path))
    assert str(info.value) == (f"{server.url('/runs.csv')}: the transfer broke off after {len(CSV) // 2} "
                               f"of {len(CSV)} bytes (the connection closed early); nothing was "
                               "cached, try again")
    assert cache_files(tmp_path) == []  # no blob, no partial file, no index entry
    server.routes["/runs.csv"] = CSV  # the next attempt succeeds and is cached
    assert len(source(server.url("/runs.csv")).load(make_ctx(tmp_path))) == 3
    assert len(cache_files(tmp_path)) == 2


def test_http_error_and_unreachable_server(tmp_path, server):
    with pytest.raises(DataError, match=r"/missing.csv: the server answered 404 Not Found; check the "
                                        r"URL\. Nothing was cached"):
        source(server.url("/missing.csv")).load(make_ctx(tmp_path))
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match=r"cannot reach the server \(.*refused.*\); check the URL"):
        source(f"http://127.0.0.1:{port}/runs.csv").load(make_ctx(tmp_path))
    assert cache_files(tmp_path) == []


def test_server_that_stops_answering_times_out(tmp_path, server):
    server.routes["/runs.csv"] = "stall"
    with pytest.raises(DataError, match=r"no answer within 0.3 s; raise `timeout:`"):
        UrlSource(url=server.url("/runs.csv"), cache_dir="cache", timeout=0.3).load(make_ctx(tmp_path))
    assert cache_files(tmp_path) == []


def test_offline_uses_the_cache_and_refuses_what_is_not_there(tmp_path, server, monkeypatch):
    server.routes["/runs.csv"] = CSV
    source(server.url("/runs.csv")).load(make_ctx(tmp_path))
    assert len(source(server.url("/runs.csv"), offline=True).load(make_ctx(tmp_path))) == 3
    with pytest.raises(DataError) as info:
        source(server.url("/other.csv"), offline=True).load(make_ctx(tmp_path))
    assert str(info.value) == (
        f"{server.url('/other.csv')}: not in the cache ({tmp_path / 'cache' / 'url'}) and offline mode "
        "is on (`offline: true`); run once with the network to fetch it, or turn offline mode off")
    monkeypatch.setenv("SCALINGLAWS_OFFLINE", "1")
    assert len(source(server.url("/runs.csv")).load(make_ctx(tmp_path))) == 3
    with pytest.raises(DataError, match=r"offline mode is on \(SCALINGLAWS_OFFLINE is set\)"):
        source(server.url("/other.csv")).load(make_ctx(tmp_path))
    assert server.requests == ["/runs.csv"]


def test_pinned_hash_refuses_other_content_and_skips_the_network(tmp_path, server):
    server.routes.update({"/runs.csv": CSV, "/mirror/runs.csv": CSV})
    digest = hashlib.sha256(CSV).hexdigest()
    with pytest.raises(DataError, match=rf"the content has sha256 {digest}, but the spec expects 0+ "
                                        r"\(`sha256:`\).*Nothing was cached"):
        source(server.url("/runs.csv"), sha256="0" * 64).load(make_ctx(tmp_path))
    assert cache_files(tmp_path) == []
    source(server.url("/runs.csv"), sha256=digest).load(make_ctx(tmp_path))
    # Same content under another URL: found by its hash, no request.
    source(server.url("/mirror/runs.csv"), sha256=digest).load(make_ctx(tmp_path))
    assert server.requests == ["/runs.csv", "/runs.csv"]


def test_refresh_downloads_again(tmp_path, server):
    server.routes["/runs.csv"] = CSV
    source(server.url("/runs.csv")).load(make_ctx(tmp_path))
    server.routes["/runs.csv"] = CSV + b"8e8,2e9,2.5\n"
    assert len(source(server.url("/runs.csv")).load(make_ctx(tmp_path))) == 3  # cached copy
    assert len(source(server.url("/runs.csv"), refresh=True).load(make_ctx(tmp_path))) == 4
    assert len(source(server.url("/runs.csv")).load(make_ctx(tmp_path))) == 4  # index now points at it
    assert len(server.requests) == 2


def test_cache_folder_defaults(tmp_path, monkeypatch, server):
    assert default_cache_dir() == tmp_path / "env-cache"
    monkeypatch.delenv("SCALINGLAWS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "scalinglaws"
    server.routes["/runs.csv"] = CSV
    UrlSource(url=server.url("/runs.csv"), timeout=5).load(make_ctx(tmp_path))
    assert UrlCache(tmp_path / "xdg" / "scalinglaws").cached(server.url("/runs.csv")) is not None


def test_unreadable_index_says_what_to_delete(tmp_path, server):
    (tmp_path / "cache" / "url").mkdir(parents=True)
    (tmp_path / "cache" / "url" / "index.json").write_text("{oops")
    server.routes["/runs.csv"] = CSV
    with pytest.raises(DataError, match=r"the cache index is unreadable .*; delete .*index.json"):
        source(server.url("/runs.csv")).load(make_ctx(tmp_path))


def test_format_must_be_known_before_downloading():
    assert UrlSource(url="https://example.org/export?id=3").check(None) == [
        (("url",), "cannot tell the format from the URL; add `format: csv`, `jsonl` or `json`")]
    assert UrlSource(url="https://example.org/export", format="json").check(None) == []
