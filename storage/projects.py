"""Projects and their API keys, kept in the store.

A key is ``ar_<id>_<secret>``: ``id`` (8 hex characters) names the key in listings and
revocations, ``secret`` is 32 random bytes (256 bits, URL-safe base64). The store keeps
only the SHA-256 of the whole key, never the key: it is shown once, when it is created.
A fast hash is enough because the secret is random and long; a slow password hash (scrypt)
would protect nothing more and would cost every request.

Both tables are ReplacingMergeTree keyed by name / id, read with ``FINAL``: revoking a key
writes its row again with a newer ``version``, so the ledger never needs an UPDATE.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Every agentreel key starts with this, so secret scanners and people can tell what it is.
KEY_PREFIX = "ar_"
_KEY = re.compile(r"^ar_([0-9a-f]{8})_[A-Za-z0-9_-]{43}$")
#: Project names: what fits a URL, a log line and a file name without quoting.
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ProjectError(ValueError):
    """A project or key operation the store refuses; the message says why."""


@dataclass(frozen=True)
class Project:
    name: str
    created_at: str
    active_keys: int


@dataclass(frozen=True)
class ApiKey:
    id: str
    project: str
    label: str
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def check_project_name(name: str) -> str:
    """``name`` when it is a valid project name; ProjectError naming the rule otherwise."""
    if not _PROJECT.match(name):
        raise ProjectError(
            f"invalid project name {name!r}: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def hash_key(key: str) -> str:
    """The hex SHA-256 the store keeps of ``key``."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def looks_like_key(key: str) -> bool:
    """True when ``key`` has the shape of an agentreel key (checked before any lookup)."""
    return bool(_KEY.match(key))


def create_project(client: Any, name: str) -> Project:
    """Add a project; ProjectError when the name is invalid or taken."""
    check_project_name(name)
    if _project_exists(client, name):
        raise ProjectError(f"project {name!r} already exists")
    now = _now_ms()
    client.insert(
        "projects",
        [[name, datetime.fromtimestamp(now / 1000, UTC)]],
        column_names=["name", "created_at"],
    )
    return Project(name, _iso(now), 0)


def list_projects(client: Any) -> list[Project]:
    rows = client.query(
        "SELECT p.name, toUnixTimestamp64Milli(p.created_at), "
        "  countIf(k.id != '' AND k.revoked = 0) "
        "FROM (SELECT * FROM projects FINAL) AS p "
        "LEFT JOIN (SELECT * FROM api_keys FINAL) AS k ON k.project = p.name "
        "GROUP BY p.name, p.created_at ORDER BY p.name"
    ).result_rows
    return [Project(str(name), _iso(int(created)), int(keys)) for name, created, keys in rows]


def create_key(client: Any, project: str, label: str = "") -> tuple[ApiKey, str]:
    """A new key for ``project``: its record and the key itself (the only time it is seen)."""
    if not _project_exists(client, project):
        raise ProjectError(
            f"no project {project!r}; create it first: agentreel projects create {project}"
        )
    key_id = secrets.token_hex(4)
    while _key_exists(client, key_id):  # 32-bit ids: a clash is rare, and must not overwrite
        key_id = secrets.token_hex(4)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    now = _now_ms()
    _write_key(client, key_id, project, hash_key(key), label, now, revoked=False, version=now)
    return ApiKey(key_id, project, label, _iso(now), None), key


def list_keys(client: Any, project: str | None = None) -> list[ApiKey]:
    where = "WHERE project = {project:String}" if project is not None else ""
    rows = client.query(
        f"SELECT id, project, label, toUnixTimestamp64Milli(created_at), revoked, "
        f"toUnixTimestamp64Milli(revoked_at) FROM api_keys FINAL {where} "
        f"ORDER BY project, created_at, id",
        parameters={"project": project} if project is not None else {},
    ).result_rows
    return [
        ApiKey(str(i), str(p), str(lbl), _iso(int(c)), _iso(int(r_at)) if rev else None)
        for i, p, lbl, c, rev, r_at in rows
    ]


def revoke_key(client: Any, key_id: str) -> ApiKey:
    """Revoke a key by its id; revoking a revoked key changes nothing. ProjectError if unknown."""
    rows = client.query(
        "SELECT project, hash, label, toUnixTimestamp64Milli(created_at), revoked, "
        "toUnixTimestamp64Milli(revoked_at), version FROM api_keys FINAL WHERE id = {id:String}",
        parameters={"id": key_id},
    ).result_rows
    if not rows:
        raise ProjectError(f"no key with id {key_id!r} (see: agentreel keys list)")
    project, digest, label, created, revoked, revoked_at, version = rows[0]
    if revoked:
        return ApiKey(key_id, project, label, _iso(int(created)), _iso(int(revoked_at)))
    now = max(_now_ms(), int(version) + 1)
    _write_key(client, key_id, project, digest, label, int(created), revoked=True, version=now)
    return ApiKey(key_id, project, label, _iso(int(created)), _iso(now))


def active_keys(client: Any) -> dict[str, str]:
    """Hash of every key that is not revoked -> its project (what the server checks keys by)."""
    rows = client.query("SELECT hash, project FROM api_keys FINAL WHERE revoked = 0").result_rows
    return {str(digest): str(project) for digest, project in rows}


def _project_exists(client: Any, name: str) -> bool:
    rows = client.query(
        "SELECT count() FROM projects FINAL WHERE name = {name:String}", parameters={"name": name}
    ).result_rows
    return bool(rows[0][0])


def _key_exists(client: Any, key_id: str) -> bool:
    rows = client.query(
        "SELECT count() FROM api_keys WHERE id = {id:String}", parameters={"id": key_id}
    ).result_rows
    return bool(rows[0][0])


def _write_key(
    client: Any,
    key_id: str,
    project: str,
    digest: str,
    label: str,
    created_ms: int,
    *,
    revoked: bool,
    version: int,
) -> None:
    def at(ms: int) -> datetime:
        return datetime.fromtimestamp(ms / 1000, UTC)

    client.insert(
        "api_keys",
        [[key_id, project, digest, label, at(created_ms), int(revoked), at(version), version]],
        column_names=[
            "id",
            "project",
            "hash",
            "label",
            "created_at",
            "revoked",
            "revoked_at",
            "version",
        ],
    )


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
