"""A local HTTP server that follows Grafana's HTTP API for the endpoints gaitmon uses.

No Grafana server binary exists in any reachable registry, so this stub stands in. It keeps
state like Grafana (folders, data sources by uid, dashboards by uid with versions,
annotations), answers with Grafana's status codes and bodies, checks authentication
(``Authorization: Bearer <token>`` or Basic), and records every request for the test to assert.

    with GrafanaStub(token="glsa_x") as g:
        ...  g.url ...
        g.requests   # [Request(method, path, query, headers, body)]
"""
from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


class GrafanaStub:
    def __init__(self, *, token: str | None = None, basic: tuple[str, str] | None = None):
        self.token, self.basic = token, basic
        self.requests: list[Request] = []
        self.folders: dict[str, dict] = {}
        self.datasources: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.annotations: list[dict] = []
        self._next_id = 1
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                req = Request(method, url.path, urllib.parse.parse_qsl(url.query), dict(self.headers.items()), body)
                stub.requests.append(req)
                if url.path != "/api/health" and not stub._authorised(req.headers.get("Authorization", "")):
                    return self._reply(401, {"message": "Unauthorized"})
                status, out = stub._route(req)
                self._reply(status, out)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PUT(self):
                self._handle("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "GrafanaStub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- Grafana semantics ----------------------------------------------------------------------
    def _authorised(self, header: str) -> bool:
        if self.token is not None and header == f"Bearer {self.token}":
            return True
        if self.basic is not None and header.startswith("Basic "):
            return base64.b64decode(header[6:]).decode() == f"{self.basic[0]}:{self.basic[1]}"
        return False

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _route(self, r: Request) -> tuple[int, Any]:
        p, m = r.path, r.method
        if p == "/api/health" and m == "GET":
            return 200, {"commit": "stub", "database": "ok", "version": "11.6.0"}
        if p == "/api/folders" and m == "POST":
            uid = r.body.get("uid") or f"f{self._id()}"
            if uid in self.folders:
                return 409, {"message": "a folder with the same uid already exists"}
            self.folders[uid] = {"id": self._id(), "uid": uid, "title": r.body["title"], "version": 1}
            return 200, self.folders[uid]
        if p.startswith("/api/datasources/uid/"):
            uid = p.rsplit("/", 1)[1]
            if m == "GET":
                ds = self.datasources.get(uid)
                if ds is None:
                    return 404, {"message": "Data source not found"}
                return 200, {k: v for k, v in ds.items() if k != "secureJsonData"}
            if m == "PUT":
                if uid not in self.datasources:
                    return 404, {"message": "Data source not found"}
                ds = dict(r.body, id=self.datasources[uid]["id"], uid=uid)
                self.datasources[uid] = ds
                return 200, {"datasource": {k: v for k, v in ds.items() if k != "secureJsonData"},
                             "id": ds["id"], "message": "Datasource updated", "name": ds["name"]}
        if p == "/api/datasources" and m == "POST":
            if any(d["name"] == r.body["name"] for d in self.datasources.values()):
                return 409, {"message": "data source with the same name already exists"}
            ds = dict(r.body, id=self._id())
            self.datasources[ds["uid"]] = ds
            return 200, {"datasource": {k: v for k, v in ds.items() if k != "secureJsonData"}, "id": ds["id"],
                         "message": "Datasource added", "name": ds["name"]}
        if p == "/api/dashboards/db" and m == "POST":
            dash = r.body["dashboard"]
            if not dash.get("title"):
                return 400, {"message": "Dashboard title cannot be empty"}
            folder = r.body.get("folderUid")
            if folder and folder not in self.folders:
                return 400, {"message": "folder not found"}
            uid = dash["uid"]
            old = self.dashboards.get(uid)
            if old and not r.body.get("overwrite"):
                return 412, {"message": "The dashboard has been changed by someone else", "status": "version-mismatch"}
            version = (old["dashboard"]["version"] + 1) if old else 1
            stored = dict(dash, id=old["dashboard"]["id"] if old else self._id(), version=version)
            self.dashboards[uid] = {"dashboard": stored, "folderUid": folder}
            return 200, {"id": stored["id"], "uid": uid, "url": f"/d/{uid}/x", "status": "success",
                         "version": version, "slug": "x"}
        if p.startswith("/api/dashboards/uid/") and m == "GET":
            d = self.dashboards.get(p.rsplit("/", 1)[1])
            if d is None:
                return 404, {"message": "Dashboard not found"}
            return 200, {"dashboard": d["dashboard"], "meta": {"folderUid": d["folderUid"]}}
        if p == "/api/annotations" and m == "POST":
            a = dict(r.body, id=self._id())
            self.annotations.append(a)
            return 200, {"message": "Annotation added", "id": a["id"]}
        if p == "/api/annotations" and m == "GET":
            q: dict[str, list[str]] = {}
            for k, v in r.query:
                q.setdefault(k, []).append(v)
            out = []
            for a in self.annotations:
                if "tags" in q and not set(q["tags"]) <= set(a.get("tags") or []):
                    continue
                if "from" in q and a["time"] < int(q["from"][0]) or "to" in q and a["time"] > int(q["to"][0]):
                    continue
                if "dashboardUID" in q and a.get("dashboardUID") != q["dashboardUID"][0]:
                    continue
                out.append({"id": a["id"], "time": a["time"], "timeEnd": a.get("timeEnd"), "text": a.get("text"),
                            "tags": a.get("tags"), "dashboardUID": a.get("dashboardUID")})
            return 200, out
        return 404, {"message": "Not found"}
