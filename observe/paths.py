"""Where the site's templates, static files and sample rubrics live.

A checkout keeps them at the top of the repository; an installed wheel carries them inside the
package (see ``force-include`` in pyproject.toml).
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def site_dir() -> Path:
    bundled = _PACKAGE / "_site"
    return bundled if bundled.is_dir() else _PACKAGE.parent


TEMPLATES = site_dir() / "templates"
STATIC = site_dir() / "static"
SAMPLE_RUBRICS = site_dir() / "rubrics"
MIGRATIONS = _PACKAGE / "migrations"
# Babel message catalogs (observe/core/i18n.py): inside the package, so a wheel carries them.
TRANSLATIONS = _PACKAGE / "translations"
