"""The one-page feedback of a single walkthrough, for the teacher: what was seen, each level
with its descriptor, the evidence and the notes."""

from __future__ import annotations

from typing import Any

from observe.observations.models import Observation, ObservationState


def build(observation: Observation) -> dict[str, Any]:
    version = observation.rubric_version
    ratings = {r.criterion_id: r for r in observation.ratings}
    fields = {f["key"]: f for f in version.document.get("context_fields", [])}
    competencies = []
    not_observed = []
    unrated = 0
    for competency in version.competencies:
        seen = []
        for criterion in competency.criteria:
            rating = ratings.get(criterion.id)
            if rating is None or (rating.level is None and not rating.not_observed):
                unrated += 1
                continue
            if rating.not_observed:
                not_observed.append(criterion.text)
                continue
            level = next((lv for lv in criterion.levels if lv["value"] == rating.level), {})
            seen.append(
                {
                    "text": criterion.text,
                    "kind": criterion.kind.value,
                    "level": rating.level,
                    "label": level.get("label", ""),
                    "descriptor": level.get("descriptor", ""),
                    "top": max(lv["value"] for lv in criterion.levels),
                    "evidence": rating.evidence,
                }
            )
        if seen:
            competencies.append({"name": competency.name, "seen": seen})
    context = []
    for key, value in (observation.context or {}).items():
        label = fields.get(key, {}).get("label", key)
        context.append((label, ", ".join(value) if isinstance(value, list) else value))
    classroom = observation.classroom
    return {
        "observation": observation,
        "title": version.title,
        "school": observation.school.name,
        "classroom": classroom.name if classroom else "Whole school",
        "teacher": classroom.teacher.name if classroom and classroom.teacher else None,
        "observer": observation.author.name,
        "observed_at": observation.observed_at,
        "minutes": round(observation.duration_seconds / 60)
        if observation.duration_seconds
        else None,
        "context": context,
        "competencies": competencies,
        "not_observed": not_observed,
        "unrated": unrated,
        "notes": observation.notes,
        "submitted": observation.state is ObservationState.SUBMITTED,
    }
