"""``observe import-offline FILE``: the last-resort path for a tablet that cannot sync.

The app's "Export unsynced data" button saves a JSON file; an admin loads it here and every
version goes through exactly the rules of a push, so nothing is stored twice.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click
from sqlalchemy import select

from observe.accounts.models import User
from observe.accounts.operations import normalise_email
from observe.audit.operations import record
from observe.core.validation import printable
from observe.extensions import db
from observe.sync import push as operations

EXPORT_FORMAT = "observe-unsynced/1"


# A tablet's unsynced work is at most a few thousand walkthroughs: a few megabytes.
MAX_FILE_BYTES = 32 * 1024 * 1024


@click.command("import-offline")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--author",
    "author_email",
    required=True,
    metavar="EMAIL",
    help="Whose walkthroughs these are. The file names its user too; the two must agree.",
)
def import_offline_command(file: Path, author_email: str) -> None:
    """Load a tablet's "Export unsynced data" file through the sync rules, as --author.

    The file is whatever the person who handed it over made it: the author is the admin's
    word, not the file's (a file naming someone else is refused)."""
    if (size := file.stat().st_size) > MAX_FILE_BYTES:
        raise click.ClickException(
            f"{file}: {size} bytes is more than an export can be ({MAX_FILE_BYTES} bytes)"
        )
    try:
        export = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise click.ClickException(f"{file}: not an observe export ({error})") from None
    if not isinstance(export, dict) or export.get("format") != EXPORT_FORMAT:
        raise click.ClickException(
            f'{file}: not an observe export (expected "format": "{EXPORT_FORMAT}")'
        )
    versions = export.get("versions")
    if not isinstance(versions, list):
        raise click.ClickException(f'{file}: "versions" must be a list')
    email = normalise_email(author_email)
    named = (
        (export.get("user") or {}).get("email") if isinstance(export.get("user"), dict) else None
    )
    if not isinstance(named, str) or normalise_email(named) != email:
        shown = printable(named) if isinstance(named, str) else "nobody"
        raise click.ClickException(
            f"{file}: the file is {shown}'s export, not {email}'s; nothing was imported"
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise click.ClickException(f"{file}: no user with email {email}")

    device = operations.Device(
        user=user,
        device_id=printable(str(export.get("device_id") or "offline-export"))[:100],
        app_version=printable(str(export.get("app_version") or ""))[:40],
        user_agent=printable(f"observe import-offline {file.name}")[:400],
    )
    results = operations.push(device, versions)
    tally = Counter(result["status"] for result in results)
    record(
        "walkthroughs.imported_offline",
        object_type="user",
        object_id=user.id,
        detail={"file": file.name, "author": user.email, **tally},
    )
    db.session.commit()

    click.echo(
        f"{len(results)} versions from {file.name} for {user.email}: "
        + ", ".join(f"{tally[s]} {s}" for s in ("applied", "duplicate", "conflict", "rejected"))
    )
    for index, result in enumerate(results):
        if result["status"] == "rejected":
            problems = "; ".join(
                f"{e['field'] or 'version'}: {e['message']}" for e in result["errors"]
            )
            click.echo(
                f"  versions[{index}] {result['version_id'] or '?'}: {result['code']}: {problems}"
            )
