"""The one-page feedback of a single walkthrough, for its teacher: the observer's strengths and
one next step, the level seen for each look-for (its label, grouped by competency, with the
evidence written down), the scale once, and in one line what was not observed.

The rubric's stock descriptors are shown once, as the scale, not under every look-for: with
them repeated, a full rubric's feedback ran to two pages and buried the evidence. The page
(``feedback.html``), its PDF (``feedback_print.html``) and any page that includes
``observations/_feedback.html`` render the dictionary :func:`build` returns.
"""

from __future__ import annotations

from typing import Any

from observe.core.i18n import current_language
from observe.observations.models import Observation, ObservationState
from observe.rubrics.queries import wording
from observe.rubrics.translations import localized


def build(observation: Observation) -> dict[str, Any]:
    version = observation.rubric_version
    said = wording(version)  # what the rubric says, in the reader's language
    ratings = {r.criterion_id: r for r in observation.ratings}
    fields = {f["key"]: f for f in version.document.get("context_fields", [])}
    competencies = []
    not_observed = []  # the look-fors' texts
    missed_by_competency = []  # (competency, how many of its look-fors were not observed)
    unrated = 0
    for competency in version.competencies:
        seen = []
        missed = 0
        for criterion in competency.criteria:
            rating = ratings.get(criterion.id)
            if rating is None or (rating.level is None and not rating.not_observed):
                unrated += 1
                continue
            if rating.not_observed:
                not_observed.append(said.criterion(criterion.text, criterion.key))
                missed += 1
                continue
            level = next((lv for lv in criterion.levels if lv["value"] == rating.level), {})
            values = [lv["value"] for lv in criterion.levels]
            seen.append(
                {
                    "text": said.criterion(criterion.text, criterion.key),
                    "kind": criterion.kind.value,
                    "level": rating.level,
                    "label": said.level(
                        level.get("label", str(rating.level)), rating.level, criterion.key
                    ),
                    "top": max(values),
                    # Out of how many steps: "3 of 4" says where a level sits on its scale;
                    # on a yes/no scale the label says it all.
                    "steps": len(values),
                    "position": sorted(values).index(rating.level) + 1
                    if rating.level in values
                    else None,
                    "evidence": rating.evidence.strip(),
                }
            )
        if seen:
            competencies.append(
                {"name": said.competency(competency.name, competency.key), "seen": seen}
            )
        if missed:
            missed_by_competency.append((said.competency(competency.name, competency.key), missed))
    context = []
    for key, value in (observation.context or {}).items():
        label = said.field(key, fields.get(key, {}).get("label", key))
        chosen = value if isinstance(value, list) else [value]
        context.append((label, ", ".join(said.option(key, str(one)) for one in chosen)))
    classroom = observation.classroom
    scale = localized(version.document, current_language()).get("scale", {}).get("levels", [])
    return {
        "observation": observation,
        "title": said.title,
        "school": observation.school.name,
        "classroom": classroom.name if classroom else "Whole school",
        # The teacher at the visit, whoever teaches the class now.
        "teacher": observation.teacher.name if observation.teacher else None,
        "observer": observation.author.name,
        "observed_at": observation.observed_at,
        "minutes": round(observation.duration_seconds / 60)
        if observation.duration_seconds
        else None,
        "context": context,
        "strengths": observation.strengths.strip(),
        "next_step": observation.next_step.strip(),
        # The rubric's scale, once: each level's label and its stock descriptor.
        "scale": [(lv["label"], lv.get("descriptor", "")) for lv in scale],
        "competencies": competencies,
        "rated": sum(len(c["seen"]) for c in competencies),
        "not_observed": not_observed,
        "not_observed_by_competency": missed_by_competency,
        "unrated": unrated,
        "notes": observation.notes.strip(),
        "submitted": observation.state is ObservationState.SUBMITTED,
    }
