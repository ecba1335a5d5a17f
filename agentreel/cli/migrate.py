"""``agentreel migrate``: make or bring up to date the store's schema, or print it.

The server migrates its store at start, so on one server or chDB this command is never
needed. On a cluster the schema is made once, ``ON CLUSTER``, before any collector starts
(each collector then finds every migration applied); ``--print`` shows that DDL without a
store, to read or to run by hand.
"""

from __future__ import annotations

import argparse
from typing import Any

from agentreel.cli.projects import add_store_flags, with_store
from agentreel.settings import Settings

ABOUT = (
    "Apply the store's schema migrations now (the server also does at start). With "
    "--cluster NAME the tables are made ON CLUSTER NAME: replicated, sharded by trace id "
    "behind Distributed tables. --print writes the DDL of a fresh store instead, without "
    "opening one."
)


def add_command(sub: Any) -> None:
    """Add ``migrate`` to the CLI's subparsers."""
    cmd = sub.add_parser("migrate", help="Apply schema migrations (or print the DDL).",
                         description=ABOUT)  # fmt: skip
    add_store_flags(cmd)
    cmd.add_argument(
        "--cluster",
        dest="clickhouse_cluster",
        default=None,
        help="ClickHouse cluster to make the schema on (as --clickhouse-cluster).",
    )
    cmd.add_argument(
        "--print", action="store_true", help="Print the DDL of a fresh store; open no store."
    )


def migrate_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print the DDL, or migrate the store (``with_store`` applies what is missing)."""
    from agentreel.storage import cluster, schema

    name = settings.clickhouse_cluster
    if args.print:
        print(cluster.script(name or None), end="")
        return 0

    def run(client: Any) -> None:
        where = f" on cluster {name}" if name else ""
        print(f"schema at version {schema.current_version(client)}{where}")

    return with_store(settings, run, "stop the server, run `agentreel migrate`, start it again.")
