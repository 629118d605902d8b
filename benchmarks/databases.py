"""Databases for the benchmarks that run on both stores: a fresh PostgreSQL database per run (the user
needs CREATEDB), a fresh SQLite file, and how many bytes a database takes on disk."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from storage import is_postgres_url


@asynccontextmanager
async def fresh_postgres(url: str) -> AsyncIterator[str]:
    """The URL of a new database on the server of ``url``, dropped on exit."""
    import psycopg

    name = f"genrebot_bench_{uuid.uuid4().hex[:12]}"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield urlsplit(url)._replace(path=f"/{name}").geturl()
        finally:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@asynccontextmanager
async def fresh_database(backend: str, folder: Path, database_url: str | None) -> AsyncIterator[str]:
    """A new, empty database of ``backend`` ("sqlite": a file in ``folder``, removed on exit;
    "postgresql": on the server of ``database_url``, dropped on exit)."""
    if backend == "postgresql":
        async with fresh_postgres(database_url) as location:
            yield location
        return
    path = folder / f"bench-{uuid.uuid4().hex[:8]}.db"
    try:
        yield str(path)
    finally:
        for leftover in folder.glob(f"{path.name}*"):
            leftover.unlink()


async def database_bytes(location: str) -> int:
    """What the database takes on disk: the SQLite file with its write-ahead log, or PostgreSQL's
    ``pg_database_size`` (tables, indexes, TOAST)."""
    if not is_postgres_url(location):
        return sum(path.stat().st_size for path in Path(location).parent.glob(f"{Path(location).name}*"))
    import psycopg

    async with await psycopg.AsyncConnection.connect(location, autocommit=True) as conn:
        cursor = await conn.execute("SELECT pg_database_size(current_database())")
        (size,) = await cursor.fetchone()
    return int(size)


def add_database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="also measure PostgreSQL on this server (the user needs CREATEDB)")


def chosen_backends(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, ...]:
    """SQLite always; PostgreSQL too when ``--database-url`` names a server (a usage error otherwise)."""
    if args.database_url is None:
        return ("sqlite",)
    if not is_postgres_url(args.database_url):
        parser.error("--database-url must start with postgresql:// or postgres://")
    return ("sqlite", "postgresql")
