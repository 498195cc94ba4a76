"""Which look-fors of a rubric's versions are the same measure, so trends and goals follow them.

A look-for in version N *continues* one of version N-1 when

* its file says so, ``continues: OLD_KEY`` (OLD_KEY a look-for of version N-1), or
* it keeps its key and its wording: the text, and every level's value, label and descriptor
  as the walkthrough's form shows them.

A chain of continuations is a *lineage*; reports count the walkthroughs of every version in
it together. A continuation whose wording changed (only ``continues`` can join those) is a
*break*: the trend goes on across it, and reports say where it is. A look-for with an old key
but new wording and no ``continues`` starts a lineage of its own: the district has not said the
new wording measures the same thing.

The rules are pure functions of the stored documents (``links``, ``check_continues``);
``rubric_lineage`` reads one rubric's versions and ``fold_map`` is what a report asks: every
look-for of the rubric that is the same measure as one of the version it shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from observe.extensions import db
from observe.rubrics.format import effective_scale
from observe.rubrics.models import Criterion, RubricVersion


@dataclass(frozen=True)
class Link:
    """A look-for of the newer version and the one of the version before that it continues."""

    key: str
    previous_key: str
    reworded: bool  # its wording differs: a break in the trend
    previous_text: str
    text: str


def _look_fors(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {item["key"]: item for c in document["competencies"] for item in c["criteria"]}


def wording(document: Mapping[str, Any], item: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a look-for says to an observer: its text and its effective levels."""
    levels, _not_observed = effective_scale(document, item)
    return (item["text"], tuple((lv["value"], lv["label"], lv["descriptor"]) for lv in levels))


def check_continues(
    previous: Mapping[str, Any] | None, document: Mapping[str, Any], previous_label: str = ""
) -> list[str]:
    """Every problem with the ``continues`` of ``document``, the next version after
    ``previous`` (None: it is the rubric's first). Empty when all is well."""
    problems: list[str] = []
    before = _look_fors(previous) if previous is not None else {}
    after = _look_fors(document)
    claimed: dict[str, str] = {}
    for key, item in after.items():
        old = item.get("continues")
        if old is None:
            continue
        if previous is None:
            problems.append(
                _(
                    "look-for %(key)s continues %(old)s, but this is the first version of "
                    "rubric %(rubric)s: there is no earlier look-for to continue",
                    key=repr(key),
                    old=repr(old),
                    rubric=repr(document["key"]),
                )
            )
            continue
        if old not in before:
            problems.append(
                _(
                    "look-for %(key)s continues %(old)s, which is not a look-for of %(version)s",
                    key=repr(key),
                    old=repr(old),
                    version=previous_label,
                )
                if previous_label
                else _(
                    "look-for %(key)s continues %(old)s, which is not a look-for of the "
                    "previous version",
                    key=repr(key),
                    old=repr(old),
                )
            )
            continue
        if old in claimed:
            problems.append(
                _(
                    "look-fors %(first)s and %(key)s both continue %(old)s; "
                    "a look-for is continued by one look-for at most",
                    first=repr(claimed[old]),
                    key=repr(key),
                    old=repr(old),
                )
            )
            continue
        claimed[old] = key
    for key, item in after.items():
        # The same key kept unchanged continues itself; another may not claim it as well.
        kept = item.get("continues") is None and key in claimed and key in before
        if kept and wording(previous or {}, before[key]) == wording(document, item):
            problems.append(
                _(
                    "look-for %(other)s continues %(key)s, which this version keeps "
                    "unchanged; remove the continues, or give %(key)s a new key",
                    other=repr(claimed[key]),
                    key=repr(key),
                )
            )
    return problems


def links(previous: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Link]:
    """The look-fors of ``document`` that continue one of ``previous``, by their key.
    ``document`` has passed :func:`check_continues` against ``previous``."""
    before = _look_fors(previous)
    after = _look_fors(document)
    claimed = {item["continues"] for item in after.values() if item.get("continues")}
    found: dict[str, Link] = {}
    for key, item in after.items():
        old_key = item.get("continues")
        if old_key is None:
            if key not in before or key in claimed:
                continue
            old_key = key
        old = before.get(old_key)
        if old is None:  # checked on load; a version stored before the rule existed
            continue
        reworded = wording(previous, old) != wording(document, item)
        if reworded and item.get("continues") is None:
            continue  # new wording, nothing declared: a new measure
        found[key] = Link(key, old_key, reworded, old["text"], item["text"])
    return found


@dataclass(frozen=True)
class Break:
    """Where a lineage's wording changed: in ``number`` (version id ``version_id``)."""

    version_id: int
    number: int
    loaded_at: datetime
    criterion_id: int  # the look-for in that version
    key: str
    previous_key: str
    previous_text: str
    text: str


@dataclass
class Lineage:
    """One rubric's look-fors across its versions."""

    version_ids: list[int] = field(default_factory=list)  # oldest first
    root: dict[int, int] = field(default_factory=dict)  # criterion id → its lineage's first
    breaks: list[Break] = field(default_factory=list)
    version_of: dict[int, int] = field(default_factory=dict)  # criterion id → version id

    def fold_map(self, version_id: int) -> dict[int, int]:
        """Criterion id (any version) → the look-for of ``version_id`` of the same lineage.
        Look-fors with no counterpart in that version are left out."""
        shown = {
            root: cid for cid, root in self.root.items() if self.version_of.get(cid) == version_id
        }
        return {cid: shown[root] for cid, root in self.root.items() if root in shown}

    def breaks_for(self, version_id: int) -> dict[int, list[Break]]:
        """The breaks in the lineage of each look-for of ``version_id``, by its id."""
        fold = self.fold_map(version_id)
        found: dict[int, list[Break]] = {}
        for item in self.breaks:
            if item.criterion_id in fold:
                found.setdefault(fold[item.criterion_id], []).append(item)
        return found


def rubric_lineage(rubric_id: int) -> Lineage:
    """Read the versions of one rubric and follow its look-fors through them.

    Kept for the session (a request, a command) while the rubric has the same versions: a
    report asks more than once, and stored versions never change."""
    stored = tuple(
        (version_id, content_hash)
        for version_id, content_hash in db.session.execute(
            select(RubricVersion.id, RubricVersion.content_hash)
            .where(RubricVersion.rubric_id == rubric_id)
            .order_by(RubricVersion.id)
        )
    )
    cache: dict[int, tuple[tuple[tuple[int, str], ...], Lineage]] = db.session.info.setdefault(
        "observe.lineage", {}
    )
    held = cache.get(rubric_id)
    if held is not None and held[0] == stored:
        return held[1]
    lineage = _follow(rubric_id)
    cache[rubric_id] = (stored, lineage)
    return lineage


def _follow(rubric_id: int) -> Lineage:
    versions = list(
        db.session.scalars(
            select(RubricVersion)
            .where(RubricVersion.rubric_id == rubric_id)
            .order_by(RubricVersion.number)
        )
    )
    ids: dict[tuple[int, str], int] = {}
    lineage = Lineage(version_ids=[v.id for v in versions])
    for version_id, key, criterion_id in db.session.execute(
        select(Criterion.rubric_version_id, Criterion.key, Criterion.id).where(
            Criterion.rubric_version_id.in_(lineage.version_ids)
        )
    ):
        ids[(version_id, key)] = criterion_id
        lineage.version_of[criterion_id] = version_id
    previous: RubricVersion | None = None
    for version in versions:
        for key in _look_fors(version.document):
            if (version.id, key) in ids:
                lineage.root[ids[(version.id, key)]] = ids[(version.id, key)]
        if previous is not None:
            for key, link in links(previous.document, version.document).items():
                new_id = ids.get((version.id, key))
                old_id = ids.get((previous.id, link.previous_key))
                if new_id is None or old_id is None:
                    continue
                lineage.root[new_id] = lineage.root[old_id]
                if link.reworded:
                    lineage.breaks.append(
                        Break(
                            version.id,
                            version.number,
                            version.loaded_at,
                            new_id,
                            key,
                            link.previous_key,
                            link.previous_text,
                            link.text,
                        )
                    )
        previous = version
    return lineage


def previous_version(version: RubricVersion) -> RubricVersion | None:
    """The version stored just before ``version`` of its rubric."""
    return db.session.scalar(
        select(RubricVersion)
        .where(
            RubricVersion.rubric_id == version.rubric_id,
            RubricVersion.number < version.number,
        )
        .order_by(RubricVersion.number.desc())
        .limit(1)
    )


def lineage_keys(version_ids: set[int]) -> dict[tuple[int, str], int]:
    """(version id, look-for key) → its lineage (the id of its first look-for), for the
    look-fors of ``version_ids``: two look-fors with the same lineage are the same measure."""
    rubric_ids = set(
        db.session.scalars(select(RubricVersion.rubric_id).where(RubricVersion.id.in_(version_ids)))
    )
    roots: dict[int, int] = {}
    for rubric_id in rubric_ids:
        roots.update(rubric_lineage(rubric_id).root)
    return {
        (version_id, key): roots.get(criterion_id, criterion_id)
        for version_id, key, criterion_id in db.session.execute(
            select(Criterion.rubric_version_id, Criterion.key, Criterion.id).where(
                Criterion.rubric_version_id.in_(version_ids)
            )
        )
    }
