"""``observe backup -o FILE`` and ``observe restore FILE``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy.exc import DBAPIError

from observe.backup import archive
from observe.extensions import db


def _shown(text: str) -> str:
    """Archived text made safe for a terminal: control characters as escapes."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text)


@click.command("backup")
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The archive to write (a .zip file).",
)  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace OUTPUT if it exists.")
def backup_command(output: Path, overwrite: bool) -> None:
    """Write the whole database to one archive, from a consistent snapshot, while the app runs."""
    if output.exists() and not overwrite:
        raise click.ClickException(f"{output} exists; choose another name or add --overwrite")
    if not output.resolve().parent.is_dir():
        raise click.ClickException(f"{output.parent} is not a folder")
    with click.progressbar(length=0, label="Backing up", file=sys.stderr) as bar:

        def total(n: int) -> None:
            bar.length = max(n, 1)

        try:
            manifest = archive.write_backup(output, progress=bar.update, on_total=total)
        except archive.BackupError as error:
            raise click.ClickException(str(error)) from None
        except DBAPIError as error:
            raise click.ClickException(f"the database could not be read: {error.orig}") from None
    rows = sum(t.rows for t in manifest.tables)
    click.echo(
        f"Wrote {output} ({output.stat().st_size:,} bytes): {rows:,} rows of "
        f"{len(manifest.tables)} tables at schema revision {manifest.alembic_revision}, "
        f"backup format {manifest.format_version}."
    )
    try:
        sha256 = archive.record_backup(output, manifest)
        db.session.commit()
    except DBAPIError as error:  # a read-only replica, say: the archive is whole all the same
        db.session.rollback()
        click.echo(
            f"Warning: the backup is whole, but the audit log could not record it: {error.orig}",
            err=True,
        )
    else:
        click.echo(f"SHA-256 {sha256}; recorded in the audit log (backup.made).")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore_command(file: Path) -> None:
    """Load a backup archive into an empty database (SQLite or PostgreSQL)."""
    with click.progressbar(length=0, label="Restoring", file=sys.stderr) as bar:

        def total(n: int) -> None:
            bar.length = max(n, 1)

        try:
            restored = archive.restore(file, progress=bar.update, on_total=total)
        except (archive.BackupError, DBAPIError) as error:
            db.session.rollback()
            reason = error.orig if isinstance(error, DBAPIError) else error
            raise click.ClickException(f"Nothing was restored: {reason}") from None
        db.session.commit()
    rows = sum(restored.rows.values())
    made = _shown(str(restored.manifest.get("created_at", "?"))[:64])
    click.echo(
        f"Restored {rows:,} rows of {len(restored.rows)} tables from {file} (made {made})"
        + (", creating the schema first" if restored.created_schema else "")
        + "; sequences set and report rollups counted afresh."
    )
    click.echo(
        "Every session has ended: everyone signs in once more (tablets keep their unsynced "
        "work and send it after signing in)."
    )
    tokens = restored.live_tokens
    if tokens:
        click.echo(
            f"{len(tokens)} API token{' works' if len(tokens) == 1 else 's work'} as when the "
            f"backup was made. A token revoked after {made} works again: revoke it once more "
            "(observe users sign-out-everywhere EMAIL --revoke-tokens, or the settings page)."
        )
        for email, name, prefix in tokens:
            click.echo(f'  {_shown(email)}  "{_shown(name)}"  {_shown(prefix)}…')
    else:
        click.echo("No API token works in the restored database.")
