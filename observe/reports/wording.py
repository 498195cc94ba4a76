"""A built summary report in the reader's language: what its rubric says — the rubric's title,
competency names, look-fors and level labels — as the rubric file gives them in that language
(observe/rubrics/translations.py), the file's own text where it gives none.

The report is built from the database rows, which hold the file's default language; this
rewrites the texts a person reads, and nothing a program matches on (keys, level values).
"""

from __future__ import annotations

from typing import Any

from observe.rubrics.models import RubricVersion
from observe.rubrics.queries import wording


def summary_in_reader_language(report: dict[str, Any], version: RubricVersion) -> None:
    """Rewrite ``report``'s rubric text (a summary of ``version``) in this request's language."""
    said = wording(version)
    scope = report["scope"]
    scope["rubric"] = f"{said.title} (v{version.number})"
    scope["at_least_label"] = said.level(scope["at_least_label"])
    # The dimensions' names (their keys stay): the rubric glossary's, else observe's own words.
    scope["dimension_labels"] = {
        d["name"]: said.dimension(d["name"]) for d in report.get("dimensions", [])
    }
    for level in report.get("levels", []):
        level["label"] = said.level(level["label"])
    for competency in report.get("competencies", []):
        competency["name"] = said.competency(competency["name"])
    for criterion in report.get("criteria", []):
        criterion["text"] = said.criterion(criterion["text"], criterion.get("key"))
        criterion["competency"] = said.competency(criterion["competency"])
    for row in (report.get("compare") or {}).get("rows", []):
        if row.get("kind") == "competency":
            row["name"] = said.competency(row["name"])
