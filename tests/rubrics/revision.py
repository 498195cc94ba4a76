"""A rubric and its revision, as a district writes them: version 1 with 27 look-fors, and
version 2 keeping 25 of them as they were, rewording one (``continues`` it), dropping one and
adding one. Used by the lineage, retirement and report tests."""

from __future__ import annotations

from typing import Any

import yaml

KEY = "revised"
UNCHANGED = [f"lf-{n:02d}" for n in range(1, 26)]
REWORDED_OLD = "talk-moves"
REWORDED_NEW = "academic-talk"
REMOVED = "seating-chart"
ADDED = "student-goals"
OLD_TEXT = "Students use talk moves with peers."
NEW_TEXT = "Students build on each other's ideas in academic talk."


def _item(key: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "kind": "student", "text": text, "dimensions": ["power"], **extra}


def document(version: int, **reworded: Any) -> dict[str, Any]:
    """Version 1 or 2 of the rubric as data; ``reworded`` adds to (or, with None, removes from)
    the reworded look-for's entry in version 2."""
    items = [_item(key, f"Look-for number {key[3:]} is seen.") for key in UNCHANGED[:20]]
    other = [_item(key, f"Look-for number {key[3:]} is seen.") for key in UNCHANGED[20:]]
    if version == 1:
        other += [_item(REWORDED_OLD, OLD_TEXT), _item(REMOVED, "The seating chart is posted.")]
    else:
        entry = _item(REWORDED_NEW, NEW_TEXT, continues=REWORDED_OLD)
        for name, value in reworded.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        other += [entry, _item(ADDED, "Students can say what they are working toward.")]
    return {
        "format": "observe-rubric/1",
        "key": KEY,
        "title": "Revised walkthrough",
        "scale": {
            "not_observed": True,
            "levels": [
                {"value": 1, "label": "Beginning", "descriptor": "Seen rarely."},
                {"value": 2, "label": "Developing", "descriptor": "Seen sometimes."},
                {"value": 3, "label": "Proficient", "descriptor": "Seen for most students."},
                {"value": 4, "label": "Exemplary", "descriptor": "Seen for nearly all."},
            ],
        },
        "competencies": [
            {"key": "thinking", "name": "Critical thinker", "criteria": items},
            {"key": "talk", "name": "Communicator", "criteria": other},
        ],
    }


def text(version: int, **reworded: Any) -> str:
    return yaml.safe_dump(document(version, **reworded), sort_keys=False, allow_unicode=True)
