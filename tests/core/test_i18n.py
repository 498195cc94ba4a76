"""The catalogs (docs/languages.md): every message the code and templates mark has a Spanish
translation that keeps its placeholders, and the compiled catalog is the one its .po makes."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from observe.core import i18n

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = ROOT / "observe" / "translations"
TRANSLATED = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT]
# Python's named placeholders (%(n)s, %(num)d) and the bare ones (%s, %d); "%%" is a percent sign.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdif]|%%")


def extracted() -> dict[str | tuple[str, ...], str]:
    """What scripts/i18n extracts (babel.cfg's sources, its keywords): message → where."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = dict(DEFAULT_KEYWORDS, lazy_gettext=None, _l=None)
    found: dict[str | tuple[str, ...], str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.fixture(scope="module")
def messages() -> dict[str | tuple[str, ...], str]:
    return extracted()


def test_the_sources_mark_messages(messages):
    # A broken babel.cfg extracts nothing, and every comparison below would pass.
    assert "Sign out" in messages
    assert len(messages) > 100


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(messages, language):
    with open(CATALOGS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po, locale=language)
    problems = []
    for message, where in sorted(messages.items(), key=lambda item: item[1]):
        singular = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(singular)
        if entry is None:
            problems.append(f"{where}: not in {language}.po: {singular!r}")
            continue
        translations = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy:
            problems.append(f"{where}: fuzzy in {language}.po (check it, then drop the flag)")
        if not all(translations):
            problems.append(f"{where}: no {language} translation for {singular!r}")
            continue
        originals = message if isinstance(message, tuple) else (message,)
        for form, translation in enumerate(translations):
            # Plural forms beyond the English two are compared with the English plural.
            original = originals[min(form, len(originals) - 1)]
            if placeholders(translation) != placeholders(original):
                problems.append(
                    f"{where}: placeholders differ: {original!r} has {placeholders(original)}, "
                    f"the {language} has {placeholders(translation)}: {translation!r}"
                )
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalog_is_current(language):
    """The .mo is committed (the server reads it, no build step); it must be what the .po
    compiles to, so a translation edited without `scripts/i18n compile` fails here."""
    folder = CATALOGS / language / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    assert (folder / "messages.mo").read_bytes() == compiled.getvalue(), (
        f"observe/translations/{language}/LC_MESSAGES/messages.mo is out of date: "
        "run scripts/i18n compile"
    )


def test_the_placeholder_check_catches_a_dropped_name():
    assert placeholders("%(n)s walkthroughs") != placeholders("recorridos")
    assert placeholders("42%% of %(n)s") == placeholders("%(n)s: 42 %%")
