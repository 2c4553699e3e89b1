"""A node's PostgreSQL rows copied out to files and back in, through psycopg's COPY in binary
format: a backup needs no `pg_dump` binary, and none of a version matching the server's.

The tables are the node's store (`circlenode_events`, `_snapshots`, `_feed_entries`,
`_bodies`), and the version that last wrote it (`circlenode_written_by`,
node/store/written_by.py: a store restored still says which version wrote it, and an older
version refuses it as it would the store itself). They are copied out in one read-only
transaction (one consistent moment, while the node keeps running), and back in by one
transaction that first checks, under a lock, that the node's tables hold nothing: rows are
never added to another node's store. The web pages' sessions
(`circlenode_sessions`) are never copied out, and that table is emptied when rows are copied in:
a restored node starts with everyone signed out. psycopg is imported only
when rows are copied (SQLite-only installs need not have it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from node.store.application import NodeStore

log = logging.getLogger("circle_node.backup")

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

# The node's tables, as eventsourcing and the feed recorder name them after the store's name.
TABLES = tuple(
    f"{NodeStore.name.lower()}_{kind}" for kind in ("events", "snapshots", "feed_entries", "bodies")
)
_EVENTS = TABLES[0]
# The version that last wrote the store (node/store/written_by.py): its one row is copied with
# the node's tables, in place of the stamp of whatever opened the store it is restored into.
WRITTEN_BY = f"{NodeStore.name.lower()}_written_by"
COPIED = (*TABLES, WRITTEN_BY)
# The web pages' sessions (node/store/session_rows.py): never in a backup.
SESSIONS = f"{NodeStore.name.lower()}_sessions"
# The tables beside the events that a backup does not hold (node/store/rate_buckets.py):
# rows of whatever opened the store, emptied with the node's tables.
BESIDE = (SESSIONS, f"{NodeStore.name.lower()}_rate_buckets")
# A restore under way: made with the rows it loads, in their transaction, and dropped once the
# data folder holds the node. Left behind, it says which folder an unfinished restore was for.
RESTORING = f"{NodeStore.name.lower()}_restoring"


class StoreNotEmpty(Exception):
    """The PostgreSQL store to restore into already holds rows."""


def connect(env: Mapping[str, str], *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A connection to the PostgreSQL store the eventsourcing settings `env` name."""
    import psycopg

    return psycopg.connect(
        **connection_params(env),
        connect_timeout=int(env["POSTGRES_CONNECT_TIMEOUT"]),
        autocommit=autocommit,
    )


def connection_params(env: Mapping[str, str]) -> dict[str, Any]:
    """What names the server, database and user of the eventsourcing settings `env` (psycopg's
    keyword arguments)."""
    return {
        "dbname": env["POSTGRES_DBNAME"],
        "host": env["POSTGRES_HOST"],
        "port": int(env["POSTGRES_PORT"]),
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
    }


def _schema(env: Mapping[str, str]) -> str:
    return env.get("POSTGRES_SCHEMA") or "public"


def _table(env: Mapping[str, str], name: str) -> sql.Composed:
    from psycopg import sql

    return sql.SQL("{}.{}").format(sql.Identifier(_schema(env)), sql.Identifier(name))


def copy_out(env: Mapping[str, str], folder: Path) -> list[str]:
    """Write each of the tables copied (`COPIED`) that exists to `folder/<table>` (COPY's
    binary format); returns the tables written."""
    from psycopg import IsolationLevel, sql

    written: list[str] = []
    with connect(env) as connection:
        connection.isolation_level = IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        present = {
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [_schema(env)],
            )
        }
        for name in COPIED:
            if name not in present:
                continue
            statement = sql.SQL("COPY {} TO STDOUT (FORMAT BINARY)").format(_table(env, name))
            with (
                (folder / name).open("wb") as file,
                connection.cursor() as cursor,
                cursor.copy(statement) as copy,
            ):
                for data in copy:
                    file.write(data)
            written.append(name)
    return written


def copy_in(env: Mapping[str, str], files: Mapping[str, Path], target: str) -> None:
    """Load the tables from the files `copy_out` wrote, in one transaction, with the marker of
    a restore into the data folder `target` (`RESTORING`; `finish` drops it). The tables are
    made if missing; StoreNotEmpty if any of the node's holds a row (then nothing is written).
    The version that wrote the rows, if the files hold it, replaces the store's stamp."""
    from psycopg import sql

    # The tables as the node makes them (eventsourcing's, with the feed recorder's).
    NodeStore({**env, "IS_SNAPSHOTTING_ENABLED": "y"}).close()
    with connect(env) as connection:
        for name in TABLES:
            connection.execute(
                sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(_table(env, name))
            )
            held = connection.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(_table(env, name))
            ).fetchone()
            if held is not None and held[0]:
                raise StoreNotEmpty(f"{_schema(env)}.{name} already holds rows")
        if WRITTEN_BY in files:  # the stamp of the empty store, made just now, gives way
            connection.execute(sql.SQL("DELETE FROM {}").format(_table(env, WRITTEN_BY)))
        for name, path in files.items():
            if name not in COPIED:
                raise ValueError(f"{name} is not a table of the node")
            statement = sql.SQL("COPY {} FROM STDIN (FORMAT BINARY)").format(_table(env, name))
            with (
                path.open("rb") as file,
                connection.cursor() as cursor,
                cursor.copy(statement) as copy,
            ):
                while data := file.read(1 << 20):
                    copy.write(data)
        # The events' notification ids go on from the largest restored.
        connection.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
                "coalesce(max(notification_id), 1), max(notification_id) IS NOT NULL) FROM {}"
            ).format(_table(env, _EVENTS)),
            [f'"{_schema(env)}"."{_EVENTS}"'],
        )
        # No session of whatever used this store before outlives the restore.
        connection.execute(sql.SQL("DELETE FROM {}").format(_table(env, SESSIONS)))
        connection.execute(
            sql.SQL("CREATE TABLE {} (target text NOT NULL)").format(_table(env, RESTORING))
        )
        connection.execute(
            sql.SQL("INSERT INTO {} VALUES (%s)").format(_table(env, RESTORING)), [target]
        )


def unfinished(env: Mapping[str, str]) -> str | None:
    """The data folder of a restore that loaded its rows and never finished (it stopped
    before `finish` or `clear`), if there is one."""
    from psycopg import sql

    with connect(env) as connection:
        exists = connection.execute(
            "SELECT to_regclass(%s) IS NOT NULL", [f'"{_schema(env)}"."{RESTORING}"']
        ).fetchone()
        if not exists or not exists[0]:
            return None
        row = connection.execute(
            sql.SQL("SELECT target FROM {}").format(_table(env, RESTORING))
        ).fetchone()
        return str(row[0]) if row else ""


def finish(env: Mapping[str, str]) -> None:
    """The restore is done (the data folder holds the node): drop its marker. If it cannot,
    the marker stays, which is harmless: its folder holds a node, so no restore clears it."""
    import psycopg
    from psycopg import sql

    try:
        with connect(env) as connection:
            connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_table(env, RESTORING)))
    except psycopg.Error as error:
        log.warning("the restore is done, but its marker table %s stays: %s", RESTORING, error)


def clear(env: Mapping[str, str]) -> None:
    """Empty the node's tables again, and those beside them (a restore that loaded them and
    then failed its checks: `copy_in` found them empty)."""
    from psycopg import sql

    with connect(env) as connection:
        present = {
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                [_schema(env)],
            )
        }
        emptied = [n for n in COPIED + BESIDE if n in present]
        connection.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(_table(env, n) for n in emptied))
        )
        connection.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_table(env, RESTORING)))
