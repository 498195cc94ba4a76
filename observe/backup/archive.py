"""Writing and reading observe's backup archive.

The archive is a zip file: ``tables/<table>.jsonl`` holds a table's rows, one JSON object a line,
in primary-key order; ``manifest.json``, written last, names the format version, the app's
version, the Alembic revision of the schema, and for each table its columns, row count and the
SHA-256 of its file. Values are written as JSON: times as ISO 8601 in UTC, dates as YYYY-MM-DD,
enumerations as their stored value, JSON documents as they are. The report rollups are not
written: they are counted afresh after a restore.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Enum, Table, TypeDecorator, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from observe.extensions import db

FORMAT = "observe-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Derived from the other tables (reports/rollups.py): rebuilt after a restore, never archived.
DERIVED = frozenset({"rollup_school", "rollup_profile", "rollup_state"})
_BATCH = 1000
# Bounds on what a restore reads into memory at once: a row (a request is at most 16 MB, so no
# stored row comes near) and the manifest.
MAX_LINE = 64 * 1024 * 1024
MAX_MANIFEST = 16 * 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why. Nothing was changed."""


@dataclass
class TableEntry:
    name: str
    columns: list[str]
    rows: int = 0
    sha256: str = ""

    @property
    def member(self) -> str:
        return f"tables/{self.name}.jsonl"


@dataclass
class Manifest:
    app_version: str
    alembic_revision: str
    database: str
    created_at: str
    tables: list[TableEntry] = field(default_factory=list)
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = {
            "format": self.format,
            "format_version": self.format_version,
            "app_version": self.app_version,
            "alembic_revision": self.alembic_revision,
            "database": self.database,
            "created_at": self.created_at,
            "tables": [
                {"name": t.name, "columns": t.columns, "rows": t.rows, "sha256": t.sha256}
                for t in self.tables
            ],
        }
        return json.dumps(data, indent=2)


def app_version() -> str:
    try:
        return metadata.version("observe")
    except metadata.PackageNotFoundError:  # pragma: no cover - a checkout without install
        return "unknown"


def archived_tables() -> list[Table]:
    """Every table but the derived ones, parents before children (the order of a restore)."""
    return [t for t in db.metadata.sorted_tables if t.name not in DERIVED]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row_line(table: Table, row: Any) -> bytes:
    """One row as the archive holds it (also what the round-trip test compares)."""
    values = {column.name: _plain(row[column.name]) for column in table.columns}
    return json.dumps(values, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _rows(connection: Connection, table: Table) -> Iterator[Any]:
    query = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(stream_results=True, yield_per=_BATCH).execute(query)
    yield from result.mappings()


def database_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    revisions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(revisions) != 1:
        raise BackupError(f"the database has {len(revisions)} Alembic revisions; expected one")
    return revisions[0]


def write_backup(
    output: Path,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Manifest:
    """Write the whole database to ``output`` from one consistent snapshot.

    The file appears only when complete (written beside it, then renamed)."""
    engine = db.engine
    dialect = engine.dialect.name
    options = {"isolation_level": "REPEATABLE READ"} if dialect == "postgresql" else {}
    directory = output.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=".observe-backup-", dir=directory)
    os.close(handle)
    try:
        with engine.connect().execution_options(**options) as connection, connection.begin():
            if dialect == "postgresql":
                connection.execute(text("SET TRANSACTION READ ONLY"))
            # On SQLite (WAL) the read transaction's snapshot is fixed by its first read.
            revision = database_revision(connection)
            if revision is None:
                raise BackupError(
                    "the database has no Alembic revision: create it with `observe db upgrade`"
                )
            tables = archived_tables()
            counts = {
                t.name: connection.execute(select(func.count()).select_from(t)).scalar_one()
                for t in tables
            }
            if on_total:
                on_total(sum(counts.values()))
            manifest = Manifest(
                app_version=app_version(),
                alembic_revision=revision,
                database=dialect,
                created_at=datetime.now().astimezone().isoformat(timespec="seconds"),
            )
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
                for table in tables:
                    entry = TableEntry(table.name, [c.name for c in table.columns])
                    digest = hashlib.sha256()
                    with archive.open(entry.member, "w", force_zip64=True) as member:
                        for row in _rows(connection, table):
                            line = row_line(table, row)
                            digest.update(line)
                            member.write(line)
                            entry.rows += 1
                            if progress and entry.rows % _BATCH == 0:
                                progress(_BATCH)
                    if progress:
                        progress(entry.rows % _BATCH)
                    if entry.rows != counts[table.name]:  # pragma: no cover - a broken snapshot
                        raise BackupError(f"{table.name} changed while it was read")
                    entry.sha256 = digest.hexdigest()
                    manifest.tables.append(entry)
                archive.writestr(MANIFEST, manifest.to_json())
        os.chmod(temporary, 0o600)  # personnel data: readable by its owner only
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return manifest


# ---- restoring -----------------------------------------------------------------------------


def read_manifest(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    try:
        if archive.getinfo(MANIFEST).file_size > MAX_MANIFEST:
            raise BackupError(f"{name}: its {MANIFEST} is too large to be an observe manifest")
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BackupError(f"{name} has no {MANIFEST}: it is not an observe backup") from None
    except (ValueError, zipfile.BadZipFile, OSError) as error:
        raise BackupError(f"{name}: its {MANIFEST} cannot be read ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{name} is not an observe backup (its manifest names no {FORMAT!r})")
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise BackupError(
            f"{name} is in backup format version {version!r}; this observe reads version "
            f"{FORMAT_VERSION}. Restore it with the observe version that wrote it."
        )
    return manifest


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise BackupError(
            f"{path} is not a readable backup archive (truncated or not a zip file: {error})"
        ) from None


def _member_lines(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as handle:
        while line := handle.readline(MAX_LINE):
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                raise BackupError(f"{member} has a line longer than {MAX_LINE:,} bytes")
            yield line


def verify(archive: zipfile.ZipFile, manifest: dict[str, Any], name: str) -> list[TableEntry]:
    """Check every table file against the manifest (rows, checksum) and the models' tables."""
    expected = {t.name: t for t in archived_tables()}
    try:
        entries = [
            TableEntry(t["name"], list(t["columns"]), int(t["rows"]), str(t["sha256"]))
            for t in manifest["tables"]
        ]
    except (KeyError, TypeError, ValueError):
        raise BackupError(f"{name}: its manifest's table list is malformed") from None
    names = [e.name for e in entries]
    if sorted(names) != sorted(expected):
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise BackupError(
            f"{name} does not hold this schema's tables (missing {missing}, extra {extra})"
        )
    for entry in entries:
        columns = [c.name for c in expected[entry.name].columns]
        if sorted(entry.columns) != sorted(columns):
            raise BackupError(f"{name}: table {entry.name} has other columns than this schema's")
        digest, rows = hashlib.sha256(), 0
        try:
            for line in _member_lines(archive, entry.member):
                digest.update(line)
                rows += 1
        except KeyError:
            raise BackupError(f"{name} lacks {entry.member}") from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
            raise BackupError(f"{name}: {entry.member} is damaged ({error})") from None
        if digest.hexdigest() != entry.sha256 or rows != entry.rows:
            raise BackupError(
                f"{name}: {entry.member} does not match its checksum in the manifest "
                "(the file was changed or damaged); nothing was restored"
            )
    return entries


def _converter(column: Any) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Enum) and kind.enum_class is not None:
        enum_class = kind.enum_class
        return lambda value: None if value is None else enum_class(value)
    if isinstance(kind, DateTime):
        return lambda value: None if value is None else datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return lambda value: None if value is None else date.fromisoformat(value)
    return lambda value: value


def emptiness(connection: Connection) -> list[str]:
    """The tables that hold rows (rollups aside), as "name (n rows)"."""
    busy = []
    for table in archived_tables():
        count = connection.execute(select(func.count()).select_from(table)).scalar_one()
        if count:
            busy.append(f"{table.name} ({count} row{'s' if count != 1 else ''})")
    return busy


def load_tables(
    connection: Connection,
    archive: zipfile.ZipFile,
    entries: list[TableEntry],
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Insert every archived row; the caller's transaction commits or rolls back."""
    loaded: dict[str, int] = {}
    for table in archived_tables():
        entry = next(e for e in entries if e.name == table.name)
        converters = {c.name: _converter(c) for c in table.columns}
        batch: list[dict[str, Any]] = []
        count = 0

        def flush(rows: list[dict[str, Any]], table: Table = table) -> None:
            try:
                connection.execute(table.insert(), rows)
            except DBAPIError as error:
                raise BackupError(
                    f"the database refused a row of {table.name}: {error.orig}; "
                    "nothing was restored"
                ) from None
            if progress:
                progress(len(rows))

        columns = frozenset(converters)
        for number, line in enumerate(_member_lines(archive, entry.member), start=1):
            try:
                values = json.loads(line)
                if not isinstance(values, dict) or values.keys() != columns:
                    raise ValueError("not an object with the table's columns")
                batch.append({name: converters[name](value) for name, value in values.items()})
            except (ValueError, TypeError) as error:
                raise BackupError(
                    f"{entry.member}, line {number}: {error}; nothing was restored"
                ) from None
            count += 1
            if len(batch) == _BATCH:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        loaded[entry.name] = count
    return loaded


def fix_sequences(connection: Connection) -> None:
    """PostgreSQL: each serial column's sequence continues after the restored ids."""
    if connection.dialect.name != "postgresql":
        return
    for table in archived_tables():
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or columns[0].autoincrement is False:
            continue
        column = columns[0]
        if column.type.python_type is not int:
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                f'FROM "{table.name}"'
            ),
            {"table": f'"{table.name}"', "column": column.name},
        )


def head_revision() -> str:
    """The newest revision this observe's migrations know."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    return heads[0] if len(heads) == 1 else "+".join(sorted(heads))


@dataclass
class Restored:
    manifest: dict[str, Any]
    rows: dict[str, int]
    created_schema: bool


def restore(
    path: Path,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Restored:
    """Load the archive at ``path`` into this app's empty database, in one transaction that the
    caller commits; then the rollups are counted afresh. Every check comes before any write."""
    import flask_migrate

    from observe.reports import rollups

    name = str(path)
    with open_archive(path) as archive:
        manifest = read_manifest(archive, name)
        head = head_revision()
        if manifest.get("alembic_revision") != head:
            raise BackupError(
                f"{name} was made at schema revision {manifest.get('alembic_revision')!r}; this "
                f"observe's schema is at revision {head!r}. Restore it with the observe version "
                "that made it (then upgrade), or upgrade that database before backing it up."
            )
        entries = verify(archive, manifest, name)
        db.session.rollback()
        with db.engine.connect() as connection:
            revision = database_revision(connection)
            present = set(inspect(connection).get_table_names())
        created = False
        if revision is None:
            ours = present & {t.name for t in db.metadata.tables.values()}
            if ours:
                raise BackupError(
                    "the database has observe's tables but no Alembic revision; restore into an "
                    "empty database"
                )
            flask_migrate.upgrade()  # an empty database: its schema first
            created = True
        elif revision != head:
            raise BackupError(
                f"the database is at schema revision {revision!r}, the archive at {head!r}: "
                "run `observe db upgrade` first"
            )
        connection = db.session.connection(execution_options={"sqlite_immediate": True})
        busy = emptiness(connection)
        if busy:
            raise BackupError(
                "the database is not empty — " + ", ".join(busy) + ". A restore goes into an "
                "empty database only: create a new one (observe db upgrade) and point "
                "DATABASE_URL at it."
            )
        if on_total:
            on_total(sum(e.rows for e in entries))
        rows = load_tables(connection, archive, entries, progress)
        fix_sequences(connection)
        rollups.rebuild(db.session)
        db.session.flush()
    return Restored(manifest, rows, created)
