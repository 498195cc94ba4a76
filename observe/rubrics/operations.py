"""Storing rubric files as immutable versions. Functions here only flush; callers commit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from observe.audit.operations import record
from observe.core import hooks
from observe.core.permissions import Principal
from observe.core.validation import printable
from observe.extensions import db
from observe.rubrics import lineage, spreadsheet
from observe.rubrics.format import ParsedRubric, RubricFileError, effective_scale, parse_rubric
from observe.rubrics.models import (
    Competency,
    Criterion,
    CriterionDimension,
    CriterionKind,
    EquityDimension,
    Rubric,
    RubricRetirement,
    RubricVersion,
)

# A rubric file is a few hundred lines; anything far larger is a mistake (or a log file).
MAX_FILE_BYTES = 2 * 1024 * 1024
# Concurrent loads of *different* content for one rubric can collide on the version number;
# each retry sees the winner's committed row and takes the next number.
_ATTEMPTS = 3


@dataclass(frozen=True)
class LoadResult:
    """The stored version, and whether this load created it (False: already stored)."""

    version: RubricVersion
    created: bool


def display_name(path: Path) -> str:
    """How messages and ``source_name`` name a file: relative to the working directory if inside.

    Bytes of a name that are not UTF-8 (which Python reads as unpaired surrogates) are written
    as ``\\udcXX``, so the name can be printed and stored."""
    try:
        name = os.path.relpath(path) if path.resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:  # another drive on Windows
        name = str(path)
    return printable(name)


def read_rubric_file(path: Path) -> ParsedRubric:
    """Read and validate one rubric without storing anything; raises :class:`RubricFileError`.

    ``path`` is a YAML file, an .xlsx workbook, or a folder of CSV files (see
    ``spreadsheet.py``).
    """
    name = display_name(path)
    try:
        if spreadsheet.is_csv_folder(path):
            return spreadsheet.read_csv_folder(path, name)
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise RubricFileError(
                [
                    gettext(
                        "%(name)s: the file is %(size)s bytes; a rubric file must be under 2 MB",
                        name=name,
                        size=format(size, ","),
                    )
                ]
            )
        data = path.read_bytes()
    except OSError as error:
        raise RubricFileError(
            [gettext("%(name)s: cannot be read: %(error)s", name=name, error=error.strerror)]
        ) from None
    return read_rubric_bytes(data, name)


def read_rubric_bytes(data: bytes, name: str) -> ParsedRubric:
    """Validate a rubric file's bytes (YAML, or .xlsx when ``name`` ends so); nothing is stored."""
    if len(data) > MAX_FILE_BYTES:
        raise RubricFileError(
            [
                gettext(
                    "%(name)s: the file is %(size)s bytes; a rubric file must be under 2 MB",
                    name=name,
                    size=format(len(data), ","),
                )
            ]
        )
    if name.lower().endswith(".xlsx"):
        return spreadsheet.read_workbook(data, name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise RubricFileError(
            [
                gettext(
                    "%(name)s: not UTF-8 text (at byte offset %(offset)s); save the file as UTF-8",
                    name=name,
                    offset=error.start,
                )
            ]
        ) from None
    # Line ends as Python's text mode reads them, so the text kept is the same on every system.
    return parse_rubric(text.replace("\r\n", "\n").replace("\r", "\n"), name)


def load_rubric_file(path: Path) -> LoadResult:
    """Validate and store the rubric in ``path``."""
    return store_rubric(read_rubric_file(path))


def load_rubric_text(text: str, source_name: str) -> LoadResult:
    """Validate and store a rubric given as text (an upload, a test)."""
    return store_rubric(parse_rubric(text, source_name))


def _stored(content_hash: str) -> RubricVersion | None:
    return db.session.scalar(
        select(RubricVersion).where(RubricVersion.content_hash == content_hash)
    )


def continuation_problems(parsed: ParsedRubric) -> list[str]:
    """What is wrong with the file's ``continues`` against the rubric's latest stored version
    (the one the file would follow), each line naming the file."""
    rubric = db.session.scalar(select(Rubric).where(Rubric.key == parsed.key))
    previous = rubric.versions[-1] if rubric is not None and rubric.versions else None
    problems = lineage.check_continues(
        previous.document if previous is not None else None,
        parsed.document,
        previous.label if previous is not None else "",
    )
    return [f"{parsed.source_name}: {line}" for line in problems]


def store_rubric(parsed: ParsedRubric) -> LoadResult:
    """Store a validated rubric as its rubric's next version, unless the content is stored.

    Raises :class:`RubricFileError`, storing nothing, when a look-for ``continues`` one the
    previous version does not have."""
    content_hash = parsed.content_hash
    for attempt in range(_ATTEMPTS):
        existing = _stored(content_hash)
        if existing is not None:
            return LoadResult(existing, created=False)
        if problems := continuation_problems(parsed):
            raise RubricFileError(problems)
        try:
            # A savepoint: if another process stores the same content first, the unique
            # content_hash fails our flush, and only this attempt is undone, not the caller's work.
            with db.session.begin_nested():
                version = _new_version(parsed, content_hash)
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise
            continue
        # Devices learn of the new version by pull, as the transaction commits.
        hooks.rubric_version_added.send(db.session, hooks.Entity(version.id))
        record(
            "rubric.loaded",
            object_type="rubric_version",
            object_id=version.id,
            detail={
                "title": version.title,
                "number": version.number,
                "source": version.source_name,
            },
        )
        return LoadResult(version, created=True)
    raise AssertionError("unreachable")  # pragma: no cover


def _new_version(parsed: ParsedRubric, content_hash: str) -> RubricVersion:
    document = parsed.document
    rubric = db.session.scalar(select(Rubric).where(Rubric.key == parsed.key))
    if rubric is None:
        rubric = Rubric(key=parsed.key)
        db.session.add(rubric)
        db.session.flush()
    latest = db.session.scalar(
        select(func.max(RubricVersion.number)).where(RubricVersion.rubric_id == rubric.id)
    )
    version = RubricVersion(
        rubric=rubric,
        number=(latest or 0) + 1,
        content_hash=content_hash,
        title=parsed.title,
        document=document,
        source_name=printable(parsed.source_name)[-255:],
        source_text=parsed.source_text,
    )
    db.session.add(version)
    position = 0
    for c_position, item in enumerate(document["competencies"]):
        competency = Competency(
            rubric_version=version, key=item["key"], name=item["name"], position=c_position
        )
        db.session.add(competency)
        for entry in item["criteria"]:
            levels, allows_not_observed = effective_scale(document, entry)
            db.session.add(
                Criterion(
                    rubric_version=version,
                    competency=competency,
                    key=entry["key"],
                    text=entry["text"],
                    kind=CriterionKind(entry["kind"]),
                    position=position,
                    allows_not_observed=allows_not_observed,
                    required=bool(entry.get("required")),
                    levels=levels,
                    dimensions=[
                        CriterionDimension(dimension=EquityDimension(name))
                        for name in entry["dimensions"]
                    ],
                )
            )
            position += 1
    db.session.flush()
    return version


def retire(version: RubricVersion, user: Principal) -> bool:
    """Retire ``version``: tablets stop offering it for new walkthroughs; drafts and
    amendments on it are still accepted. False when it was retired already."""
    if db.session.get(RubricRetirement, version.id) is not None:
        return False
    db.session.add(
        RubricRetirement(
            rubric_version_id=version.id, retired_by_id=getattr(user, "id", None) or None
        )
    )
    db.session.flush()
    db.session.expire(version, ["retirement"])
    hooks.rubric_version_retired.send(db.session, hooks.Entity(version.id))
    record("rubric.retired", object_type="rubric_version", object_id=version.id,
           detail={"title": version.title, "number": version.number})  # fmt: skip
    return True


def unretire(version: RubricVersion, user: Principal) -> bool:
    """Offer a retired version again. False when it was not retired."""
    retirement = db.session.get(RubricRetirement, version.id)
    if retirement is None:
        return False
    db.session.delete(retirement)
    db.session.flush()
    db.session.expire(version, ["retirement"])
    hooks.rubric_version_retired.send(db.session, hooks.Entity(version.id))
    record("rubric.unretired", object_type="rubric_version", object_id=version.id,
           detail={"title": version.title, "number": version.number})  # fmt: skip
    return True


__all__ = [
    "LoadResult",
    "RubricFileError",
    "display_name",
    "load_rubric_file",
    "load_rubric_text",
    "read_rubric_bytes",
    "read_rubric_file",
    "retire",
    "store_rubric",
    "unretire",
]
