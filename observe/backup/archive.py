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
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    TypeDecorator,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, StatementError

from observe.core.models import UTCDateTime, utcnow
from observe.core.validation import text_problem
from observe.extensions import db

FORMAT = "observe-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Derived from the other tables (reports/rollups.py): rebuilt after a restore, never archived.
DERIVED = frozenset(
    {"rollup_school", "rollup_profile", "rollup_classroom", "rollup_state", "rollup_stamp"}
)
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


def _fsync_path(path: str | Path, directory: bool = False) -> None:
    """Flush a file's data (or a folder's entries) to the disk, so a power cut after "Wrote …"
    loses neither the archive nor its name."""
    descriptor = os.open(
        path, (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if directory else os.O_RDONLY
    )
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def record_backup(output: Path, manifest: Manifest) -> str:
    """Record ``backup.made`` in the database just backed up, in a transaction of its own (the
    caller commits); the archive's SHA-256."""
    from observe.audit.operations import record

    sha256 = file_sha256(output)
    record(
        "backup.made",
        detail={
            "file": output.name,
            "sha256": sha256,
            "created_at": manifest.created_at,
            "alembic_revision": manifest.alembic_revision,
            "rows": sum(t.rows for t in manifest.tables),
        },
    )
    return sha256


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
        _fsync_path(temporary)  # the bytes on disk before the name points at them
        os.replace(temporary, output)
        _fsync_path(directory, directory=True)  # and the rename itself
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
    except (
        ValueError,
        zipfile.BadZipFile,
        OSError,
        EOFError,
        zlib.error,
        NotImplementedError,
        RecursionError,
        RuntimeError,
    ) as error:  # fmt: skip (RuntimeError: an encrypted member)
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
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        raise BackupError(
            f"{path} is not a readable backup archive (truncated or not a zip file: {error})"
        ) from None


def _member_lines(archive: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    with archive.open(member) as handle:
        while line := handle.readline(MAX_LINE):
            if len(line) == MAX_LINE and not line.endswith(b"\n"):
                raise BackupError(f"{member} has a line longer than {MAX_LINE:,} bytes")
            yield line


def _row_problem(line: bytes, checks: dict[str, Callable[[Any], Any]]) -> str | None:
    """What is wrong with one archived row (", column x: why"), or None."""
    try:
        values = json.loads(line)
    except (ValueError, RecursionError):
        return ": not a JSON object"
    if not isinstance(values, dict) or values.keys() != checks.keys():
        return ": not an object with the table's columns"
    for column, check in checks.items():
        try:
            check(values[column])
        except _Bad as error:
            return f", column {column}: {error}"
    return None


def verify(archive: zipfile.ZipFile, manifest: dict[str, Any], name: str) -> list[TableEntry]:
    """Check every table file against the manifest (rows, checksum) and the models' tables."""
    expected = {t.name: t for t in archived_tables()}
    try:
        entries = [
            TableEntry(t["name"], list(t["columns"]), int(t["rows"]), str(t["sha256"]))
            for t in manifest["tables"]
        ]
    except (KeyError, TypeError, ValueError, OverflowError):
        raise BackupError(f"{name}: its manifest's table list is malformed") from None
    names = [e.name for e in entries]
    if sorted(names) != sorted(expected):
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise BackupError(
            f"{name} does not hold this schema's tables (missing {missing}, extra {extra})"
        )
    for entry in entries:
        table = expected[entry.name]
        columns = [c.name for c in table.columns]
        if sorted(entry.columns) != sorted(columns):
            raise BackupError(f"{name}: table {entry.name} has other columns than this schema's")
        checks = {c.name: checker(c) for c in table.columns}
        digest, rows, problem = hashlib.sha256(), 0, None
        try:
            for line in _member_lines(archive, entry.member):
                digest.update(line)
                rows += 1
                if problem is None:
                    problem = _row_problem(line, checks)
                    if problem is not None:
                        problem = f"{entry.member}, line {rows}{problem}"
        except KeyError:
            raise BackupError(f"{name} lacks {entry.member}") from None
        except (
            zipfile.BadZipFile,
            zlib.error,
            OSError,
            EOFError,
            NotImplementedError,
            RuntimeError,
        ) as error:  # fmt: skip (RuntimeError: an encrypted member)
            raise BackupError(f"{name}: {entry.member} is damaged ({error})") from None
        if digest.hexdigest() != entry.sha256 or rows != entry.rows:
            raise BackupError(
                f"{name}: {entry.member} does not match its checksum in the manifest "
                "(the file was changed or damaged); nothing was restored"
            )
        if problem is not None:  # checksums that agree around a value its column cannot hold
            raise BackupError(f"{problem}; nothing was restored")
    return entries


class _Bad(ValueError):
    """A value that its column cannot hold; the message says why (never the value itself: it may
    be personnel data)."""


def _kind_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


def _text(length: int | None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise _Bad(f"holds {_kind_name(value)} where text belongs")
        if length is not None and len(value) > length:
            raise _Bad(f"holds {len(value):,} characters; the column holds at most {length:,}")
        if problem := text_problem(value):
            raise _Bad(problem)
        return value

    return check


def _integer(bits: int) -> Callable[[Any], Any]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: Any) -> Any:
        if type(value) is not int:
            raise _Bad(f"holds {_kind_name(value)} where a whole number belongs")
        if not low <= value <= high:
            raise _Bad(f"is out of range for a {bits}-bit integer column ({low} to {high})")
        return value

    return check


def _boolean(value: Any) -> Any:
    if not isinstance(value, bool):
        raise _Bad(f"holds {_kind_name(value)} where true or false belongs")
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"holds {_kind_name(value)} where a number belongs")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad("is not a finite number")
    if isinstance(value, int) and abs(value) > 2**53:
        raise _Bad("is too large for a floating-point column")
    return value


def _json(value: Any) -> Any:
    """A JSON document either database can store: text without NUL or lone surrogates (keys
    too), finite numbers. Walked without recursion (json.loads already bounded the depth)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if problem := text_problem(item):
                raise _Bad(f"holds a JSON string that {problem}")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _Bad("holds a JSON number that is not finite")
        elif isinstance(item, dict):
            for key, child in item.items():
                if problem := text_problem(key):
                    raise _Bad(f"holds a JSON name that {problem}")
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return value


def _datetime(aware: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise _Bad(f"holds {_kind_name(value)} where a time belongs")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise _Bad("is not an ISO 8601 time") from None
        if aware and parsed.utcoffset() is None:
            raise _Bad("is a time without a UTC offset; the column holds UTC times")
        if aware:
            try:
                parsed = parsed.astimezone(UTC)  # as the column stores it
            except OverflowError:
                raise _Bad("is a time out of range once in UTC") from None
        if not aware and parsed.tzinfo is not None:
            raise _Bad("is a time with a UTC offset; the column holds local times")
        return parsed

    return check


def _date(value: Any) -> Any:
    if not isinstance(value, str):
        raise _Bad(f"holds {_kind_name(value)} where a date belongs")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad("is not a date (YYYY-MM-DD)") from None


def _enum(kind: Enum) -> Callable[[Any], Any]:
    members: dict[object, object]
    if kind.enum_class is not None:
        enum_class = kind.enum_class
        members = {member.value: member for member in enum_class}
    else:
        members = {value: value for value in kind.enums}
    allowed = ", ".join(str(v) for v in members)

    def check(value: Any) -> Any:
        try:
            return members[value]
        except (KeyError, TypeError):
            raise _Bad(f"is not one of the column's values ({allowed})") from None

    return check


def checker(column: Column[Any]) -> Callable[[Any], Any]:
    """A function that returns the value to insert into ``column`` for an archived (decoded
    JSON) value, or raises _Bad saying why the column cannot hold it. Built once per column, so
    a restore of millions of rows pays one call per value, not a look at the type."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        aware = isinstance(kind, UTCDateTime)
        kind = kind.impl_instance
    else:
        aware = isinstance(kind, DateTime) and kind.timezone
    check: Callable[[Any], Any]
    if isinstance(kind, Boolean):
        check = _boolean
    elif isinstance(kind, Enum):  # before String: an Enum is a String
        check = _enum(kind)
    elif isinstance(kind, String):
        check = _text(kind.length)
    elif isinstance(kind, BigInteger):
        check = _integer(64)
    elif isinstance(kind, SmallInteger):
        check = _integer(16)
    elif isinstance(kind, Integer):
        check = _integer(32)
    elif isinstance(kind, Float | Numeric):
        check = _number
    elif isinstance(kind, DateTime):
        check = _datetime(aware)
    elif isinstance(kind, Date):
        check = _date
    elif isinstance(kind, JSON):
        return _json  # JSON null is a value, like any other
    else:  # pragma: no cover - a new column type needs its check here
        raise TypeError(f"{column.table.name}.{column.name}: no restore check for {kind!r}")
    if column.nullable:
        return lambda value: None if value is None else check(value)

    def required(value: Any) -> Any:
        if value is None:
            raise _Bad("is empty, but the column requires a value")
        return check(value)

    return required


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
        checks = {c.name: checker(c) for c in table.columns}
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
            except (StatementError, OverflowError) as error:  # verify() checked every value
                raise BackupError(
                    f"a row of {table.name} could not be written ({type(error).__name__}); "
                    "nothing was restored"
                ) from None
            if progress:
                progress(len(rows))

        for number, line in enumerate(_member_lines(archive, entry.member), start=1):
            try:
                values = json.loads(line)
                batch.append({column: check(values[column]) for column, check in checks.items()})
            except (ValueError, TypeError, KeyError, RecursionError) as error:
                # verify() read the same lines: only a file changed since lands here.
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
    sha256: str = ""
    # (owner's email, token name, prefix) of every token that works after the restore.
    live_tokens: list[tuple[str, str, str]] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def end_every_session(connection: Connection) -> None:
    """Raise every user's session generation: a cookie issued before the restore — even one that
    was signed out after the backup was taken — opens no session in the restored database."""
    users = db.metadata.tables["user"]
    connection.execute(users.update().values(session_generation=users.c.session_generation + 1))


def live_tokens(connection: Connection) -> list[tuple[str, str, str]]:
    """Every API token that works in this database (not revoked, not expired, its owner active),
    as (owner's email, name, prefix)."""
    users, tokens = db.metadata.tables["user"], db.metadata.tables["api_token"]
    query = (
        select(users.c.email, tokens.c.name, tokens.c.prefix)
        .join_from(tokens, users, tokens.c.user_id == users.c.id)
        .where(
            tokens.c.revoked_at.is_(None),
            or_(tokens.c.expires_at.is_(None), tokens.c.expires_at > utcnow()),
            users.c.active.is_(True),
        )
        .order_by(users.c.email, tokens.c.name, tokens.c.prefix)
    )
    return [tuple(row) for row in connection.execute(query)]


def restore(
    path: Path,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Restored:
    """Load the archive at ``path`` into this app's empty database, in one transaction that the
    caller commits; then the rollups are counted afresh. Every check comes before any write."""
    import flask_migrate

    from observe.audit.operations import record
    from observe.core import hooks

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
        end_every_session(connection)
        tokens = live_tokens(connection)
        hooks.database_restored.send(db.session, hooks.NOTHING)
        sha256 = file_sha256(path)
        record(
            "backup.restored",
            detail={
                "file": path.name,
                "sha256": sha256,
                "created_at": str(manifest.get("created_at"))[:64],
                "alembic_revision": manifest.get("alembic_revision"),
                "rows": sum(rows.values()),
            },
        )
        db.session.flush()
    return Restored(manifest, rows, created, sha256, tokens)
