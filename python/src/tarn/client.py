"""A client of a tarn server (``tarn serve``): the same operations and names as the TypeScript SDK.

Queries come back as pyarrow Tables, read from the server's Arrow IPC stream. Only the standard library and pyarrow
are used.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc

from tarn.errors import TarnError, error_for

ARROW_STREAM = "application/vnd.apache.arrow.stream"


def _q(part: str) -> str:
    return urllib.parse.quote(part, safe="")


class Client:
    """A tarn lake served over HTTP.

    Example::

        lake = tarn.Client(url="http://127.0.0.1:8181", api_key=os.environ["TARN_API_KEY"])
        lake.create_branch("alice.dev", from_ref="main")
        trips = lake.query("SELECT * FROM trips", ref="alice.dev")  # a pyarrow.Table
    """

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self._api_key = api_key
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"tarn.Client(url={self.url!r})"

    # -- transport ---------------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        accept: str = "application/json",
    ) -> bytes:
        url = f"{self.url}/api/v1{path}"
        if query:
            items = {
                k: ("true" if v is True else "false" if v is False else v) for k, v in query.items() if v is not None
            }
            if items:
                url += "?" + urllib.parse.urlencode(items)
        headers = {"Accept": accept}
        data = None
        if body is not None:
            data = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                payload: bytes = response.read()
                return payload
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                doc = json.loads(raw)["error"]
                raise error_for(e.code, doc["code"], doc["message"], doc.get("context")) from None
            except (ValueError, KeyError, TypeError):
                raise TarnError("HTTP_ERROR", f"HTTP {e.code}: {raw[:200]!r}", {}, e.code) from None
        except urllib.error.URLError as e:
            raise TarnError("SERVER_UNREACHABLE", f"cannot reach {self.url}: {e.reason}", {"url": self.url}) from None

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return json.loads(self._request(method, path, **kwargs))

    # -- lake ---------------------------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Version, catalog backend, warehouse and active branch of the served lake."""
        return dict(self._json("GET", "/info"))

    def query(self, sql: str, ref: str | None = None) -> pa.Table:
        """Runs read-only SQL at a ref (branch, tag, ``main@hash``, ``main~2``) and returns the result as a Table.

        Example::

            lake.query("SELECT zone, count(*) AS n FROM trips GROUP BY zone", ref="v1")
        """
        raw = self._request("POST", "/query", body={"sql": sql, "ref": ref}, accept=ARROW_STREAM)
        return ipc.open_stream(pa.py_buffer(raw)).read_all()

    def explain(self, sql: str, ref: str | None = None) -> dict[str, Any]:
        """The scan plan of a query (files kept of total per table) without running it."""
        return dict(self._json("POST", "/explain", body={"sql": sql, "ref": ref})["plan"])

    # -- branches and tags --------------------------------------------------------------------------------------

    def branches(self) -> list[dict[str, Any]]:
        """Every branch with its head commit."""
        return list(self._json("GET", "/branches")["branches"])

    def branch(self, name: str) -> dict[str, Any]:
        """One branch and its head commit; :class:`NotFoundError` when there is none."""
        return dict(self._json("GET", f"/branches/{_q(name)}")["branch"])

    def create_branch(self, name: str, from_ref: str | None = None) -> dict[str, Any]:
        """Creates a branch at a ref (O(1), no data copied)."""
        return dict(self._json("POST", "/branches", body={"name": name, "from": from_ref})["branch"])

    def delete_branch(self, name: str, force: bool = False) -> dict[str, Any]:
        """Deletes a branch (``force`` for the branch of a failed run)."""
        return dict(self._json("DELETE", f"/branches/{_q(name)}", query={"force": force or None})["deleted"])

    def rename_branch(self, name: str, to: str) -> dict[str, Any]:
        """Renames a branch."""
        return dict(self._json("POST", f"/branches/{_q(name)}/rename", body={"to": to})["branch"])

    def merge(
        self, source: str, into: str | None = None, message: str | None = None, dry_run: bool = False
    ) -> dict[str, Any]:
        """Merges a ref into a branch: fast-forward, or a three-way merge; :class:`ConflictError` on conflict.

        Example::

            lake.merge("alice.dev", into="main", message="new zones")
        """
        body = {"into": into, "message": message, "dry_run": dry_run or None}
        return dict(self._json("POST", f"/branches/{_q(source)}/merge", body=body))

    def tags(self) -> list[dict[str, Any]]:
        """Every tag."""
        return list(self._json("GET", "/tags")["tags"])

    def create_tag(self, name: str, from_ref: str | None = None) -> dict[str, Any]:
        """Creates a tag at a ref."""
        return dict(self._json("POST", "/tags", body={"name": name, "from": from_ref})["tag"])

    def delete_tag(self, name: str) -> dict[str, Any]:
        """Deletes a tag."""
        return dict(self._json("DELETE", f"/tags/{_q(name)}"))

    # -- history ------------------------------------------------------------------------------------------------

    def log(self, ref: str | None = None, n: int | None = None) -> list[dict[str, Any]]:
        """Commit history of a ref, newest first."""
        return list(self._json("GET", "/log", query={"ref": ref, "n": n})["commits"])

    def diff(self, ref: str, against: str | None = None) -> dict[str, Any]:
        """What ``ref`` changed against another ref."""
        return dict(self._json("GET", "/diff", query={"ref": ref, "against": against}))

    def revert(self, commit: str, on: str | None = None, table: str | None = None) -> dict[str, Any]:
        """Undoes a whole commit (or one ``table`` of it) with a new commit."""
        return dict(self._json("POST", "/revert", body={"commit": commit, "on": on, "table": table}))

    # -- namespaces and tables ----------------------------------------------------------------------------------

    def namespaces(self, ref: str | None = None) -> list[dict[str, Any]]:
        """Namespaces at a ref."""
        return list(self._json("GET", "/namespaces", query={"ref": ref})["namespaces"])

    def tables(self, ref: str | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Tables at a ref."""
        return list(self._json("GET", "/tables", query={"ref": ref, "namespace": namespace})["tables"])

    def table(self, name: str, ref: str | None = None) -> dict[str, Any]:
        """A table's schema, partition spec, snapshots and size at a ref."""
        return dict(self._json("GET", f"/tables/{_q(name)}", query={"ref": ref})["table"])

    # -- jobs ---------------------------------------------------------------------------------------------------

    def jobs(self) -> list[dict[str, Any]]:
        """Every job (runs, imports, queries), newest first."""
        return list(self._json("GET", "/jobs")["jobs"])

    def job(self, job_id: str) -> dict[str, Any]:
        """One job's record: status, nodes, timings, the data commit it read."""
        return dict(self._json("GET", f"/jobs/{_q(job_id)}")["job"])

    def job_log(self, job_id: str) -> str:
        """A job's log."""
        return self._request("GET", f"/jobs/{_q(job_id)}/log", accept="text/plain").decode()
