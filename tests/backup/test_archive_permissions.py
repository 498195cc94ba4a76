"""A backup archive holds personnel data: only its owner may read it, whatever the umask."""

from __future__ import annotations

import os
import stat

from tests.backup.test_archive import stamped  # noqa: F401 (fixture)


def test_an_archive_is_readable_by_its_owner_only(app, stamped, create_user, tmp_path):  # noqa: F811
    create_user()
    new, old = tmp_path / "new.zip", tmp_path / "old.zip"
    old.write_bytes(b"last night's backup")
    old.chmod(0o644)  # an older archive somebody loosened: replaced, its mode not kept
    previous = os.umask(0)  # the loosest umask: a file made plainly would be 0666
    try:
        for args in (["-o", str(new)], ["-o", str(old), "--overwrite"]):
            result = app.test_cli_runner().invoke(args=["backup", *args])
            assert result.exit_code == 0, result.output
    finally:
        os.umask(previous)
    assert [stat.S_IMODE(os.stat(path).st_mode) for path in (new, old)] == [0o600, 0o600]
    assert old.read_bytes().startswith(b"PK")  # the archive, not last night's file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.zip", "old.zip"]  # no leftovers
