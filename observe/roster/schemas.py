"""Schools and classrooms as JSON: as devices keep their roster offline, and as the API gives it."""

from __future__ import annotations

from typing import Any

from observe.roster.models import Classroom, School


def school_json(school: School) -> dict[str, Any]:
    return {
        "id": school.id,
        "code": school.code,
        "name": school.name,
        "level": school.level,
        "region": school.region,
        "title_i": school.title_i,
        "attributes": {a.name: a.value for a in school.attributes},
        "classrooms": [classroom_json(c) for c in school.classrooms],
    }


def classroom_json(classroom: Classroom) -> dict[str, Any]:
    teacher = classroom.teacher
    return {
        "id": classroom.id,
        "external_id": classroom.external_id,
        "name": classroom.name,
        "teacher": {"id": teacher.external_id, "name": teacher.name} if teacher else None,
        "grade": classroom.grade,
        "subject": classroom.subject,
        "course_level": classroom.course_level,
        "programs": classroom.program_names,
        "attributes": {a.name: a.value for a in classroom.attributes},
        "students": classroom.students,
        "active": classroom.active,
    }
