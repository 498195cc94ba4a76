"""``observe import-offline``: an exported file goes through the same rules as a push."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion


def export_file(tmp_path, versions, email="coach@example.org", **extra):
    path = tmp_path / "unsynced.json"
    body = {
        "format": "observe-unsynced/1",
        "user": {"email": email},
        "device_id": "ipad-7",
        "app_version": "1.0.0",
        "versions": versions,
        **extra,
    }
    path.write_text(json.dumps(body))
    return path


def run(app, path):
    return app.test_cli_runner().invoke(args=["import-offline", str(path)])


def test_import_then_import_again_stores_each_version_once(app, tmp_path, setting, make_version):
    versions = [make_version(), make_version(), make_version(rubric_version_id=9999)]
    path = export_file(tmp_path, versions)
    result = run(app, path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "3 versions from unsynced.json for coach@example.org: "
        "2 applied, 0 duplicate, 0 conflict, 1 rejected",
        f"  versions[2] {versions[2]['version_id']}: invalid: "
        "rubric_version_id: unknown rubric version 9999",
    ]
    again = run(app, path)
    assert again.output.splitlines()[0] == (
        "3 versions from unsynced.json for coach@example.org: "
        "0 applied, 2 duplicate, 0 conflict, 1 rejected"
    )
    assert db.session.scalar(select(func.count()).select_from(ObservationVersion)) == 2
    stored = db.session.get(ObservationVersion, versions[0]["version_id"])
    assert stored.device_id == "ipad-7"


def test_bad_files_are_named_and_change_nothing(app, tmp_path, setting, make_version):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert run(app, garbage).output.startswith(f"Error: {garbage}: not an observe export (")

    wrong = export_file(tmp_path, [make_version()], format="something-else")
    assert run(app, wrong).output == (
        f'Error: {wrong}: not an observe export (expected "format": "observe-unsynced/1")\n'
    )
    stranger = export_file(tmp_path, [make_version()], email="nobody@example.org")
    assert (
        run(app, stranger).output == f"Error: {stranger}: no user with email nobody@example.org\n"
    )
    assert db.session.scalar(select(func.count()).select_from(Observation)) == 0
