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


def run(app, path, author="coach@example.org"):
    return app.test_cli_runner().invoke(args=["import-offline", str(path), "--author", author])


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
        run(app, stranger, author="nobody@example.org").output
        == f"Error: {stranger}: no user with email nobody@example.org\n"
    )
    assert db.session.scalar(select(func.count()).select_from(Observation)) == 0


def test_the_author_is_the_admins_word_not_the_files(app, tmp_path, setting, make_version):
    # Issue 11: the command trusted the email inside the file.
    path = export_file(tmp_path, [make_version()], email="coach@example.org")
    other = run(app, path, author="admin@example.org")
    assert other.exit_code == 1
    assert other.output == (
        f"Error: {path}: the file is coach@example.org's export, not admin@example.org's; "
        "nothing was imported\n"
    )
    unnamed = export_file(tmp_path, [make_version()], email=None)
    assert "the file is nobody's export" in run(app, unnamed).output
    missing = app.test_cli_runner().invoke(args=["import-offline", str(path)])
    assert missing.exit_code == 2 and "--author" in missing.output
    assert db.session.scalar(select(func.count()).select_from(Observation)) == 0
    path = export_file(tmp_path, [make_version()], email="coach@example.org")
    assert run(app, path, author="Coach@Example.org ").exit_code == 0


def test_hostile_envelope_text_is_stored_escaped(app, tmp_path, setting, make_version):
    version = make_version()
    path = export_file(tmp_path, [version], device_id="ipad\x00", app_version="\ud800")
    assert run(app, path).exit_code == 0
    stored = db.session.get(ObservationVersion, version["version_id"])
    assert (stored.device_id, stored.app_version) == ("ipad\\u0000", "\\ud800")


def test_a_file_too_large_is_refused(app, tmp_path, setting, monkeypatch):
    from observe.sync import cli

    monkeypatch.setattr(cli, "MAX_FILE_BYTES", 100)
    path = export_file(tmp_path, [], padding="x" * 200)
    result = run(app, path)
    assert result.exit_code == 1
    assert "is more than an export can be (100 bytes)" in result.output


def test_an_import_is_in_the_audit_log_and_a_refused_one_is_not(
    app, tmp_path, setting, make_version
):
    from observe.audit.models import AuditEvent

    imports = select(AuditEvent).where(AuditEvent.action == "walkthroughs.imported_offline")
    refused = run(app, export_file(tmp_path, [make_version()], email="someone@example.org"))
    assert refused.exit_code != 0
    assert db.session.scalars(imports).all() == []
    result = run(app, export_file(tmp_path, [make_version(), make_version(rubric_version_id=9)]))
    assert result.exit_code == 0, result.output
    [event] = db.session.scalars(imports).all()
    assert event.actor_email.startswith("command line (")
    assert (event.object_type, event.object_id) == ("user", str(setting.observer.id))
    assert event.detail == {
        "file": "unsynced.json",
        "author": "coach@example.org",
        "applied": 1,
        "rejected": 1,
    }
