"""``agentreel projects …`` and ``agentreel keys …``: manage projects and API keys.

These commands open the store directly, not through the REST API: the first key has to come
from somewhere before any client can authenticate, and a key that could mint keys over the
network would be one more secret to lose. With the embedded store (chDB), one process owns
the files, so run them while the server is stopped (the server says so if it is running);
with a ClickHouse server store they work any time, and a running server takes a new key within
a second and stops taking a revoked one within 5 s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

from agentreel.cli.client import print_json
from agentreel.settings import Settings

#: What ``--help`` says: where these commands work, and why.
_ABOUT = (
    "Projects and API keys live in the store and these commands open it directly. With the "
    "embedded store, run them while the server is stopped; with a ClickHouse server, any "
    "time (a running server takes a new key within a second and refuses a revoked one "
    "within 5 s)."
)

#: Settings these commands read: where the store is.
_STORE_SETTINGS = ("data_dir", "clickhouse_url", "clickhouse_cluster", "log_level")


def add_store_flags(cmd: argparse.ArgumentParser) -> None:
    """The flags of a command that opens the store: where it is."""
    from agentreel.settings import SETTINGS

    for setting in SETTINGS:
        if setting.name in _STORE_SETTINGS:
            cmd.add_argument(setting.flag, dest=setting.name, default=None, help=setting.doc)


def add_commands(sub: Any) -> None:
    """Add ``projects`` and ``keys`` to the CLI's subparsers."""

    def store_flags(cmd: argparse.ArgumentParser) -> argparse.ArgumentParser:
        add_store_flags(cmd)
        cmd.add_argument("--json", action="store_true", help="Print JSON instead of text.")
        return cmd

    projects = sub.add_parser(
        "projects", help="Create and list projects (opens the store directly).", description=_ABOUT
    )
    p_sub = projects.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = store_flags(p_sub.add_parser("create", help="Add a project."))
    create.add_argument("name")
    store_flags(p_sub.add_parser("list", help="List projects and their active key counts."))

    keys = sub.add_parser(
        "keys",
        help="Create, list and revoke API keys (opens the store directly).",
        description=_ABOUT,
    )
    k_sub = keys.add_subparsers(dest="action", metavar="ACTION", required=True)
    k_create = store_flags(k_sub.add_parser("create", help="Make a key; it is shown once."))
    k_create.add_argument("--project", required=True)
    k_create.add_argument("--label", default="", help="What the key is for (shown in listings).")
    k_list = store_flags(k_sub.add_parser("list", help="List keys (never the keys themselves)."))
    k_list.add_argument("--project")
    revoke = store_flags(k_sub.add_parser("revoke", help="Revoke a key by its id."))
    revoke.add_argument("id")


def projects_command(settings: Settings, args: argparse.Namespace) -> int:
    from agentreel.storage import projects

    def run(client: Any) -> Any:
        if args.action == "create":
            made = projects.create_project(client, args.name)
            _say(
                args,
                asdict(made),
                f"project {made.name} created; give it a key: "
                f"agentreel keys create --project {made.name}",
            )
        else:
            listed = projects.list_projects(client)
            rows = [
                (p.name, p.created_at[:19].replace("T", " "), str(p.active_keys)) for p in listed
            ]
            _table(args, [asdict(p) for p in listed], ("project", "created (UTC)", "keys"), rows)

    return with_store(settings, run)


def keys_command(settings: Settings, args: argparse.Namespace) -> int:
    from agentreel.storage import projects

    def run(client: Any) -> None:
        if args.action == "create":
            made, key = projects.create_key(client, args.project, args.label)
            if args.json:
                print_json({**asdict(made), "key": key})
                return
            print(key)
            print(
                f"\nkey {made.id} for project {made.project}. This is the only time the key is "
                "shown: store it now (agentreel keeps only its hash). Clients send it as\n"
                f"  Authorization: Bearer {projects.KEY_PREFIX}…   "
                "(CLI and dashboard: AGENTREEL_API_KEY)",
                file=sys.stderr,
            )
        elif args.action == "revoke":
            revoked = projects.revoke_key(client, args.id)
            _say(args, asdict(revoked), f"key {revoked.id} of project {revoked.project} revoked")
        else:
            listed = projects.list_keys(client, args.project)
            rows = [
                (
                    k.id,
                    k.project,
                    k.label,
                    k.created_at[:19].replace("T", " "),
                    "active" if k.active else f"revoked {(k.revoked_at or '')[:19]}",
                )
                for k in listed
            ]
            header = ("id", "project", "label", "created (UTC)", "state")
            _table(args, [asdict(k) for k in listed], header, rows)

    return with_store(settings, run)


#: What to do when the embedded store is held by the server, for these commands.
_STOP_FIRST = (
    "projects and keys are managed on the store itself: stop the server, run this command, "
    "start the server again."
)


def with_store(settings: Settings, run: Callable[[Any], Any], stop_first: str = _STOP_FIRST) -> int:
    """Open and migrate the store, ``run(client)``, close it; 1 with a message (and
    ``stop_first`` for the embedded store) when the store cannot be opened."""
    from agentreel.storage.client import StoreUnavailable, connect
    from agentreel.storage.projects import ProjectError
    from agentreel.storage.schema import migrate

    try:
        client = connect(settings.clickhouse_url)
    except StoreUnavailable as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        if settings.embedded:
            print(f"agentreel: {stop_first}", file=sys.stderr)
        return 1
    try:
        migrate(
            client, settings.clickhouse_cluster
        )  # keys may be made before the server ever started
        run(client)
    except ProjectError as exc:
        print(f"agentreel: {exc}", file=sys.stderr)
        return 1
    finally:
        client.close()
    return 0


def _say(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if args.json:
        print_json(data)
    else:
        print(text)


def _table(
    args: argparse.Namespace,
    data: list[dict[str, Any]],
    header: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
) -> None:
    if args.json:
        print_json(data)
        return
    if not rows:
        print("none yet")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


COMMANDS = {"projects": projects_command, "keys": keys_command}
