"""The tablet app's message tables (static/js/i18n/): every English message has its Spanish one
with the same placeholders and markup, and every key the app's modules use is in the tables."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from observe import paths
from observe.rubrics.format import DIMENSIONS

JS = paths.STATIC / "js"
TABLES = JS / "i18n"
LANGUAGES = ("en", "es")
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A tag and its attributes (<strong>, <a class="…" href="…">, </p>): a translation may move it,
# never drop it or change where a link goes or which button the app wires up.
TAG = re.compile(r"<[^>]+>")
# t("key"), t('key'), th("key", …): the literal keys the modules ask for.
CALL = re.compile(r"""\bt[h]?\(\s*["']([^"']+)["']""")
DATA_T = re.compile(r'data-t="([^"]+)"')

Message = str | dict[str, str]


def read_table(path: Path) -> dict[str, Message]:
    """A table module (`export default {…};`, as Biome formats it) read as a Python literal:
    JS strings split with `+` become adjacent literals, and bare plural keys are quoted."""
    text = "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("//")
    )
    body = text.strip().removeprefix("export default").strip().removesuffix(";")
    body = re.sub(r"""(["'])\s*\+\s*(["'])""", r"\1 \2", body)
    body = re.sub(r"^(\s*)([a-z]+):", r'\1"\2":', body, flags=re.M)
    table = ast.literal_eval(body)
    assert isinstance(table, dict), path
    return table


@pytest.fixture(scope="module")
def tables() -> dict[str, dict[str, Message]]:
    return {language: read_table(TABLES / f"{language}.js") for language in LANGUAGES}


def forms(message: Message) -> dict[str, str]:
    return message if isinstance(message, dict) else {"other": message}


def test_every_english_message_has_a_spanish_one(tables):
    english, spanish = tables["en"], tables["es"]
    assert len(english) > 150  # the whole app, not a sample
    missing = sorted(set(english) - set(spanish))
    extra = sorted(set(spanish) - set(english))
    assert not missing, f"no Spanish for: {', '.join(missing)}"
    assert not extra, f"Spanish for keys English does not have: {', '.join(extra)}"
    for key, message in spanish.items():
        for form, text in forms(message).items():
            assert text.strip(), f"es {key} ({form}) is empty"


def test_placeholders_and_markup_are_the_same_in_every_language(tables):
    problems = []
    for key, message in tables["en"].items():
        wanted = {p for text in forms(message).values() for p in PLACEHOLDER.findall(text)}
        tags = sorted(TAG.findall(forms(message)["other"]))
        for language in LANGUAGES[1:]:
            for form, text in forms(tables[language][key]).items():
                found = set(PLACEHOLDER.findall(text))
                # A singular form may say "one" instead of {n}; it may not invent a placeholder.
                if not found <= wanted or (form == "other" and found != wanted):
                    problems.append(
                        f"{language} {key} ({form}): {sorted(found)} != {sorted(wanted)}"
                    )
                if sorted(TAG.findall(text)) != tags:
                    problems.append(f"{language} {key} ({form}): markup differs from English")
    assert not problems, "\n".join(problems)


def test_plural_messages_have_the_forms_each_language_needs(tables):
    """English and Spanish both tell "one" from "other" (Intl.PluralRules; Spanish's "many",
    for millions, falls back to "other")."""
    for language, table in tables.items():
        for key, message in table.items():
            if isinstance(message, dict):
                assert {"one", "other"} <= set(message), f"{language} {key}: {sorted(message)}"
                assert set(message) <= {"zero", "one", "two", "few", "many", "other"}


def used_keys(namespaces: set[str]) -> dict[str, str]:
    """Every key the app asks for, with where: literal t()/th() calls, the page's data-t, keys
    held in tables of the modules (`"calibration.waiting"`), and one per equity dimension
    (form.js builds `dimension.<name>`)."""
    found: dict[str, str] = {}
    names = "|".join(map(re.escape, namespaces))
    literal = re.compile(rf"""["']((?:{names})\.[a-z_]+)["']""")
    for path in sorted(JS.rglob("*.js")):
        if TABLES in path.parents:
            continue
        text = path.read_text(encoding="utf-8")
        for key in CALL.findall(text) + literal.findall(text):
            found.setdefault(key, path.relative_to(JS).as_posix())
    page = (paths.TEMPLATES / "tablet/app.html").read_text(encoding="utf-8")
    for key in DATA_T.findall(page):
        found.setdefault(key, "templates/tablet/app.html")
    for dimension in DIMENSIONS:
        found.setdefault(f"dimension.{dimension}", "screens/form.js")
    return found


def test_every_key_the_app_uses_is_in_the_tables(tables):
    namespaces = {key.split(".")[0] for key in tables["en"]}
    used = used_keys(namespaces)
    assert len(used) > 150
    missing = sorted(
        f"{key} (in {where})" for key, where in used.items() if key not in tables["en"]
    )
    assert not missing, f"keys the app uses that en.js lacks: {', '.join(missing)}"
    unused = sorted(set(tables["en"]) - set(used))
    assert not unused, f"messages no module uses (remove them): {', '.join(unused)}"


def test_the_reader_catches_a_missing_translation(tmp_path, tables):
    """The check above reads the real tables: a table missing a key reads as missing."""
    shorter = tmp_path / "es.js"
    text = (TABLES / "es.js").read_text(encoding="utf-8")
    shorter.write_text(re.sub(r'^  "home\.title": .*\n', "", text, flags=re.M), encoding="utf-8")
    assert "home.title" in tables["es"]
    assert "home.title" not in read_table(shorter)
    assert len(read_table(shorter)) == len(tables["es"]) - 1


def test_the_app_page_says_its_language(client):
    """The server writes the reader's language into <html lang>, which the app reads at start."""
    english = client.get("/app/", headers={"Accept-Language": "en-US,en;q=0.9"})
    spanish = client.get("/app/", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    assert '<html lang="es">' in spanish.get_data(as_text=True)
    # The page is served from the service worker's cache: another language is another version,
    # so the update brings the page in that language.
    version = re.compile(r'name="observe-version" content="([^"]+)"')
    assert version.search(english.get_data(as_text=True)).group(1) != version.search(
        spanish.get_data(as_text=True)
    ).group(1)
    worker = client.get("/sw.js", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert version.search(spanish.get_data(as_text=True)).group(1) in worker
