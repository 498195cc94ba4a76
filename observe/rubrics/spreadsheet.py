"""Rubrics as spreadsheets: an .xlsx workbook or a folder of CSV files, read and written.

A workbook is turned into the same data a YAML rubric file holds, then validated by
:func:`observe.rubrics.format.check_data`, so both forms obey the same rules. Each problem is
mapped back to the cell it came from (``look-fors!D12``). Workbooks are untrusted: their size
is bounded before they are opened, formulas are refused rather than evaluated, and links to
other workbooks are refused. The layout is described in docs/rubric-format.md ("Spreadsheets").
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path as FilePath
from typing import Any

from flask_babel import gettext as _

from observe.core.validation import Path
from observe.rubrics import spreadsheet_translations as translated
from observe.rubrics.export import to_yaml
from observe.rubrics.format import FORMAT_ID, ParsedRubric, RubricFileError, check_data

# A rubric workbook is tens of kilobytes; these bounds are far above any real one and far below
# what would tie up a server (a "zip bomb" expands a small upload into gigabytes of XML).
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_ROWS = 2000
MAX_COLUMNS = 60
# Cells read across all the sheets (a row counts up to its last stored cell): a large rubric
# has a few thousand. Reading 2,000 by 60 cells on each of several sheets would cost seconds.
MAX_CELLS = 50_000


@dataclass(frozen=True)
class Column:
    name: str  # as written in the header row; matched ignoring case, spaces, _ and -
    kind: str  # text, slug, word, integer, boolean, list, lines
    required: bool = False
    width: int = 20


@dataclass(frozen=True)
class Sheet:
    name: str  # the workbook's sheet name; a CSV folder's file is this with - for spaces
    columns: tuple[Column, ...]
    required: bool = True

    @property
    def csv_name(self) -> str:
        return self.name.replace(" ", "-") + ".csv"


RUBRIC = Sheet("rubric", (Column("field", "text", True, 16), Column("value", "any", True, 80)))
COMPETENCIES = Sheet(
    "competencies",
    (
        Column("key", "slug", True, 24),
        Column("name", "text", True, 28),
        Column("description", "text", width=60),
    ),
)
LOOK_FORS = Sheet(
    "look-fors",
    (
        Column("competency", "slug", True, 22),
        Column("key", "slug", True, 24),
        Column("kind", "word", True, 10),
        Column("text", "text", True, 60),
        Column("dimensions", "list", True, 22),
        Column("evidence prompt", "text", width=40),
        Column("not observed", "boolean", width=14),
        Column("required", "boolean", width=10),
        Column("continues", "slug", width=20),
    ),
)
SCALE = Sheet(
    "scale",
    (
        Column("value", "integer", True, 8),
        Column("label", "text", True, 16),
        Column("descriptor", "text", width=60),
        Column("look-for", "slug", width=24),
    ),
)
CONTEXT_FIELDS = Sheet(
    "context fields",
    (
        Column("key", "slug", True, 18),
        Column("label", "text", True, 28),
        Column("options", "lines", True, 36),
        Column("multiple", "boolean", width=10),
        Column("required", "boolean", width=10),
    ),
    required=False,
)
GLOSSARY = Sheet(
    "glossary",
    (Column("term", "text", True, 24), Column("definition", "text", True, 80)),
    required=False,
)
TRANSLATIONS = Sheet(
    "translations",
    (
        Column("language", "slug", True, 10),
        Column("sheet", "text", True, 16),
        Column("key", "text", True, 24),
        Column("column", "text", True, 16),
        Column("text", "text", True, 80),
    ),
    required=False,
)
SHEETS = (RUBRIC, COMPETENCIES, LOOK_FORS, SCALE, CONTEXT_FIELDS, GLOSSARY, TRANSLATIONS)
ABOUT = "about"  # instructions for people; never read

# The rubric sheet's rows: field name → where its value goes in the rubric data.
RUBRIC_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "format": (("format",), "text"),
    "key": (("key",), "slug"),
    "title": (("title",), "text"),
    "description": (("description",), "text"),
    "languages": (("languages",), "list"),
    "not observed": (("scale", "not_observed"), "boolean"),
}
# ASCII digits, few enough for int(): Python refuses to convert more than 4,300 digits, and a
# level value is at most four digits anyway (format.MAX_LEVEL).
_DESCRIPTOR_COLUMN = re.compile(r"descriptor[\s_]+(-?[0-9]{1,9})")  # fullmatch


def _norm(name: str) -> str:
    return re.sub(r"[\s_-]+", " ", name.strip().casefold())


def column_letter(index: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# --- cells and tables -----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A sheet, a row in it, a cell in it: what a problem message points at."""

    sheet: str
    row: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        sheet = f"'{self.sheet}'" if re.search(r"[^\w.-]", self.sheet) else self.sheet
        if self.row is None:
            return sheet
        return f"{sheet}!{column_letter(self.column or 1)}{self.row}"

    @property
    def order(self) -> tuple[int, int, int]:
        stem = self.sheet[:-4] if self.sheet.lower().endswith(".csv") else self.sheet
        names = [_norm(s.name) for s in SHEETS]
        index = names.index(_norm(stem)) if _norm(stem) in names else len(names)
        return (index, self.row or 0, self.column or 0)


@dataclass
class Table:
    """One sheet (or CSV file) as read: its header row and its rows of plain values."""

    name: str  # the display name used in messages (the sheet's name, or the CSV file's)
    rows: list[tuple[int, list[Any]]]  # (row number, values from column A)
    problems: list[tuple[Place, str]] = field(default_factory=list)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) → "a date"


# --- reading a workbook -------------------------------------------------------------------------


def read_workbook(data: bytes, source_name: str) -> ParsedRubric:
    """Validate an .xlsx rubric workbook; return it normalised or raise RubricFileError."""
    return _parse(_workbook_tables(data, source_name), source_name)


def _workbook_tables(data: bytes, source_name: str) -> dict[str, Table]:
    def fail(message: str) -> RubricFileError:
        return RubricFileError([f"{source_name}: {message}"])

    if len(data) > MAX_FILE_BYTES:
        raise fail(
            _(
                "the file is %(size)s bytes; a rubric workbook must be under 2 MB",
                size=format(len(data), ","),
            )
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:4] == b"\xd0\xcf\x11\xe0":
            raise fail(_("not an Excel workbook (.xlsx) (an old .xls file: save it as .xlsx)"))
        raise fail(_("not an Excel workbook (.xlsx)"))
    too_big = _(
        "the workbook unpacks to more than %(size)s bytes (32 MB)",
        size=format(MAX_UNCOMPRESSED_BYTES, ","),
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise fail(
                    _(
                        "the workbook has %(count)s parts; a rubric workbook has a few dozen",
                        count=format(len(members), ","),
                    )
                )
            if sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
                raise fail(too_big)
            # The sizes above are what the file declares; count what really comes out too.
            # Cells are counted on the way (the reader parses every sheet once when it opens the
            # workbook, so they must be counted before it does).
            unpacked = 0
            cells = 0
            for member in members:
                with archive.open(member) as part:
                    while chunk := part.read(1 << 20):
                        unpacked += len(chunk)
                        if unpacked > MAX_UNCOMPRESSED_BYTES:
                            raise fail(too_big)
                        cells += len(_CELL_TAG.findall(chunk))
                        if cells > MAX_CELLS:
                            raise fail(_too_many_cells())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise fail(_unreadable(error)) from None
    names = [member.filename.lower() for member in members]
    if any(n.startswith("xl/externallinks/") or n == "xl/connections.xml" for n in names):
        raise fail(
            _(
                "the workbook links to other workbooks or data sources; remove the links "
                "(Data > Edit Links > Break Link) and save it again"
            )
        )

    import openpyxl  # only needed here; importing it costs a few hundred milliseconds

    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception as error:  # an untrusted file can break the reader in many ways
        raise fail(_unreadable(error)) from None
    tables: dict[str, Table] = {}
    problems: list[str] = []
    try:
        budget = [MAX_CELLS]
        for worksheet in workbook.worksheets:
            tables[worksheet.title] = _sheet_table(worksheet, budget)
    except _TooBig as error:
        problems.append(f"{source_name}: {error}")
    except Exception as error:
        problems.append(f"{source_name}: {_unreadable(error)}")
    finally:
        workbook.close()
    if problems:
        raise RubricFileError(problems)
    return tables


class _TooBig(Exception):
    pass


def _unreadable(error: Exception) -> str:
    return _("not a readable Excel workbook (.xlsx): %(error)s", error=error)


# A cell's start tag in a worksheet's XML (<c r="A1">, <x:c …>, <c/>), in any part: a sheet may
# be stored under any name. A tag split across two 1 MB chunks goes uncounted; at most 32 can.
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")


def _too_many_cells(sheet: str | None = None) -> str:
    if sheet:
        return _(
            "the workbook has more than %(count)s cells (each row counted up to its last cell; "
            "sheet %(sheet)s goes past it); a rubric needs a few thousand: delete unused "
            "sheets, rows and columns",
            count=format(MAX_CELLS, ","),
            sheet=repr(sheet),
        )
    return _(
        "the workbook has more than %(count)s cells (on all its sheets together); a rubric "
        "needs a few thousand: delete unused sheets, rows and columns",
        count=format(MAX_CELLS, ","),
    )


def _sheet_table(worksheet: Any, budget: list[int]) -> Table:
    """One sheet's cells; ``budget`` holds how many cells all the sheets may still have."""
    table = Table(worksheet.title, [])
    worksheet.reset_dimensions()  # the stored dimensions can lie; read the cells that exist
    # Each row comes padded up to its last stored cell, and missing rows come as empty rows,
    # so both bounds are checked on what is stored, before any work per cell: a tiny file
    # with one cell at row 1,000,000 or column 16,000 costs nothing.
    for row_number, cells in enumerate(worksheet.iter_rows(), start=1):
        if row_number > MAX_ROWS:
            raise _TooBig(
                _(
                    "sheet %(sheet)s goes past row %(row)s; delete the rows below the rubric "
                    "(even empty rows with formatting count)",
                    sheet=repr(worksheet.title),
                    row=format(MAX_ROWS, ","),
                )
            )
        if len(cells) > MAX_COLUMNS:
            raise _TooBig(
                _(
                    "sheet %(sheet)s has cells past column %(column)s; delete the columns to the "
                    "right of the rubric",
                    sheet=repr(worksheet.title),
                    column=column_letter(MAX_COLUMNS),
                )
            )
        budget[0] -= len(cells)
        if budget[0] < 0:
            raise _TooBig(_too_many_cells(worksheet.title))
        values: list[Any] = []
        for column, cell in enumerate(cells, start=1):
            value = cell.value
            if value is None or (isinstance(value, str) and not value.strip()):
                values.append(None)
                continue
            place = Place(worksheet.title, row_number, column)
            if cell.data_type == "f":
                table.problems.append(
                    (
                        place,
                        _(
                            "holds a formula; observe does not calculate formulas, so type the "
                            "value itself (copy the cell, then Paste Special > Values)"
                        ),
                    )
                )
                table.notes[(row_number, column)] = "formula"
                value = None
            elif cell.data_type == "e":
                table.problems.append((place, _("holds the error value %(value)s", value=value)))
                value = None
            elif isinstance(value, datetime | date | time):
                table.notes[(row_number, column)] = "a date or time"
            values.append(value)
        table.rows.append((row_number, values))
    return table


# --- reading a folder of CSV files ------------------------------------------------------------


def read_csv_folder(folder: FilePath, source_name: str) -> ParsedRubric:
    """Validate a folder of CSV files (rubric.csv, look-fors.csv, …); raise RubricFileError."""
    tables: dict[str, Table] = {}
    problems: list[str] = []
    total = 0
    for path in sorted(folder.iterdir()):
        if not (path.is_file() and path.suffix.lower() == ".csv"):
            continue
        name = path.name
        size = path.stat().st_size
        total += size
        if total > MAX_FILE_BYTES:
            raise RubricFileError(
                [f"{source_name}: the CSV files add up to more than 2 MB; a rubric is far smaller"]
            )
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as error:
            problems.append(
                f"{source_name}: {name}: not UTF-8 text (at byte offset {error.start}); "
                "save it as CSV UTF-8"
            )
            continue
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as error:
            problems.append(f"{source_name}: {name}: not a readable CSV file: {error}")
            continue
        if len(rows) > MAX_ROWS:
            problems.append(f"{source_name}: {name}: has more than {MAX_ROWS:,} rows")
            continue
        if any(len(row) > MAX_COLUMNS and any(row[MAX_COLUMNS:]) for row in rows):
            problems.append(f"{source_name}: {name}: has more than {MAX_COLUMNS} columns")
            continue
        table = Table(name, [])
        for number, row in enumerate(rows, start=1):
            table.rows.append((number, [v if v.strip() else None for v in row]))
        tables[name] = table
    if problems:
        raise RubricFileError(problems)
    if not tables:
        raise RubricFileError([f"{source_name}: the folder holds no .csv files"])
    return _parse(tables, source_name)


def is_csv_folder(path: FilePath) -> bool:
    """A folder is a CSV rubric when it holds rubric.csv."""
    return path.is_dir() and (path / RUBRIC.csv_name).is_file()


# --- from tables to rubric data ---------------------------------------------------------------


class _Builder:
    """Turns tables into rubric data, remembering which cell each value came from."""

    def __init__(self, tables: Mapping[str, Table]) -> None:
        self.tables = tables
        self.problems: list[tuple[Place, str]] = []
        self.places: dict[Path, Place] = {}
        self.notes: dict[Path, str] = {}
        self.sheets: dict[str, Table] = {}
        self.data: dict[str, Any] = {}
        self.dropped: list[Path] = []  # paths of stand-in entries whose own problems are noise

    # which table is which sheet

    def match_sheets(self) -> bool:
        wanted = {_norm(sheet.name): sheet for sheet in SHEETS}
        for name, table in self.tables.items():
            self.problems += table.problems
            stem = name[:-4] if name.lower().endswith(".csv") else name
            key = _norm(stem)
            if key == ABOUT:
                continue
            sheet = wanted.get(key)
            if sheet is None:
                allowed = ", ".join(s.name for s in SHEETS)
                self.problems.append(
                    (
                        Place(name),
                        _(
                            "unknown sheet %(name)s; sheets here: %(allowed)s (and about)",
                            name=repr(name),
                            allowed=allowed,
                        ),
                    )
                )
            elif sheet.name in self.sheets:
                self.problems.append(
                    (Place(name), _("a second %(name)s sheet", name=repr(sheet.name)))
                )
            else:
                self.sheets[sheet.name] = table
        fatal = False
        for sheet in SHEETS:
            if sheet.name not in self.sheets and sheet.required:
                self.problems.append(
                    (Place(sheet.name), _("the %(name)s sheet is missing", name=repr(sheet.name)))
                )
                fatal = True
        return not fatal

    def columns(self, sheet: Sheet) -> dict[str, int] | None:
        """The header row of ``sheet``: column name → column number (descriptor N → 'd:N')."""
        table = self.sheets.get(sheet.name)
        if table is None:
            return {}
        header = table.rows[0][1] if table.rows else []
        known = {_norm(c.name): c.name for c in sheet.columns}
        found: dict[str, int] = {}
        for number, value in enumerate(header, start=1):
            place = Place(table.name, 1, number)
            if value is None:
                if any(len(vs) >= number and vs[number - 1] is not None for _, vs in table.rows):
                    self.problems.append((place, _("this column has values but no heading")))
                continue
            text = str(value).strip()
            match = _DESCRIPTOR_COLUMN.fullmatch(text.casefold())
            if sheet is LOOK_FORS and match:
                name = f"d:{int(match.group(1))}"
            elif _norm(text) in known:
                name = known[_norm(text)]
            else:
                allowed = ", ".join(c.name for c in sheet.columns)
                if sheet is LOOK_FORS:
                    allowed += ", descriptor 1, descriptor 2, … " + _("(one per level value)")
                self.problems.append(
                    (
                        place,
                        _(
                            "unknown column %(name)s; columns here: %(allowed)s",
                            name=repr(text),
                            allowed=allowed,
                        ),
                    )
                )
                continue
            if name in found:
                first = Place(table.name, 1, found[name])
                self.problems.append(
                    (
                        place,
                        _("column %(name)s repeats column %(first)s", name=repr(text), first=first),
                    )
                )
                continue
            found[name] = number
        missing = [c.name for c in sheet.columns if c.required and c.name not in found]
        for name in missing:
            self.problems.append(
                (
                    Place(table.name, 1, 1),
                    _("the heading row has no %(name)s column", name=repr(name)),
                )
            )
        return None if missing else found

    def rows(self, sheet: Sheet) -> Iterable[tuple[int, list[Any]]]:
        table = self.sheets.get(sheet.name)
        if table is None:
            return []
        return [(n, vs) for n, vs in table.rows[1:] if any(v is not None for v in vs)]

    # values

    def value(
        self, sheet: Sheet, row: int, values: list[Any], column: int | None, kind: str, path: Path
    ) -> Any:
        """The cell's value converted for ``kind``; None when empty. Records where it lives."""
        table = self.sheets[sheet.name]
        if column is None:
            return None
        self.places[path] = Place(table.name, row, column)
        if note := table.notes.get((row, column)):
            self.notes[path] = note
        raw = values[column - 1] if column <= len(values) else None
        return None if raw is None else convert(raw, kind)

    def put(self, target: dict[str, Any], key: str, value: Any) -> None:
        if value is not None:
            target[key] = value


def convert(raw: Any, kind: str) -> Any:
    """A cell's value as the rubric data holds it; what cannot be converted is left for the
    schema to refuse (so the message is the same as for a YAML file)."""
    if isinstance(raw, str):
        raw = raw.strip()
    if kind in ("text", "slug", "word", "any"):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _number_text(raw)
        if isinstance(raw, str) and kind == "word":
            return raw.casefold()
        return raw
    if kind == "integer":
        if isinstance(raw, bool):
            return str(raw).upper()
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str) and re.fullmatch(r"[+-]?[0-9]{1,9}", raw):
            return int(raw)
        return raw
    if kind == "boolean":
        if isinstance(raw, str) and raw.casefold() in ("true", "false"):
            return raw.casefold() == "true"
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _number_text(raw)  # 1 is not true: the schema says "must be true or false"
        return raw
    if kind == "list":
        text = raw if isinstance(raw, str) else _number_text(raw)
        return [part.strip().casefold() for part in str(text).split(",") if part.strip()]
    if kind == "lines":
        text = raw if isinstance(raw, str) else _number_text(raw)
        return [line.strip() for line in str(text).splitlines() if line.strip()]
    raise ValueError(kind)  # pragma: no cover


def _number_text(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse(tables: Mapping[str, Table], source_name: str) -> ParsedRubric:
    b = _Builder(tables)
    complete = b.match_sheets()
    layout = {sheet.name: b.columns(sheet) for sheet in SHEETS}
    if not complete or any(columns is None for columns in layout.values()):
        raise _error(source_name, b.problems)
    data = b.data

    # rubric: field | value
    cols = layout[RUBRIC.name] or {}
    seen_fields: dict[str, Place] = {}
    data["format"] = FORMAT_ID
    data["scale"] = {}
    for row, values in b.rows(RUBRIC):
        name_raw = values[cols["field"] - 1] if cols["field"] <= len(values) else None
        place = Place(b.sheets[RUBRIC.name].name, row, cols["field"])
        name = _norm(str(name_raw)) if name_raw is not None else ""
        if name not in RUBRIC_FIELDS:
            allowed = ", ".join(RUBRIC_FIELDS)
            b.problems.append(
                (
                    place,
                    _(
                        "unknown field %(name)s; fields here: %(allowed)s",
                        name=repr(name_raw),
                        allowed=allowed,
                    ),
                )
                if name
                else (place, _("a value needs the name of its field in this column"))
            )
            continue
        if name in seen_fields:
            b.problems.append(
                (
                    place,
                    _(
                        "field %(name)s is repeated; first at %(first)s",
                        name=repr(name),
                        first=seen_fields[name],
                    ),
                )
            )
            continue
        seen_fields[name] = place
        field_path, kind = RUBRIC_FIELDS[name]
        value = b.value(RUBRIC, row, values, cols["value"], kind, field_path)
        target = data if len(field_path) == 1 else data["scale"]
        if value is not None:
            target[field_path[-1]] = value
    for name, (field_path, _kind) in RUBRIC_FIELDS.items():
        b.places.setdefault(field_path, Place(b.sheets[RUBRIC.name].name))
        if name not in seen_fields:
            b.notes.setdefault(
                field_path, "missing:" + _("add a row whose field is %(name)s", name=repr(name))
            )

    # competencies
    cols = layout[COMPETENCIES.name] or {}
    competencies: list[dict[str, Any]] = []
    by_key: dict[str, int] = {}
    b.places[("competencies",)] = Place(b.sheets[COMPETENCIES.name].name)
    for row, values in b.rows(COMPETENCIES):
        i = len(competencies)
        path: Path = ("competencies", i)
        item: dict[str, Any] = {}
        for column in COMPETENCIES.columns:
            value = b.value(
                COMPETENCIES, row, values, cols.get(column.name), column.kind, (*path, column.name)
            )
            b.put(item, column.name, value)
        b.places[path] = b.places[(*path, "key")]
        b.places[(*path, "criteria")] = b.places[(*path, "key")]
        b.notes[(*path, "criteria")] = "no look-fors:" + _("no row of the look-fors sheet names it")
        item["criteria"] = []
        if isinstance(item.get("key"), str):
            by_key.setdefault(item["key"], i)
        competencies.append(item)
    data["competencies"] = competencies

    # look-fors: each row joins the competency it names
    cols = layout[LOOK_FORS.name] or {}
    orphans: list[dict[str, Any]] = []
    orphan_index = len(competencies)
    criterion_at: dict[str, tuple[int, int]] = {}  # look-for key: competency, look-for index
    look_fors_name = b.sheets[LOOK_FORS.name].name
    for row, values in b.rows(LOOK_FORS):
        competency = None
        if "competency" in cols:
            c = cols["competency"]
            competency = (
                convert(values[c - 1], "slug")
                if c <= len(values) and values[c - 1] is not None
                else None
            )
        place = Place(look_fors_name, row, cols["competency"])
        if competency in by_key:
            i = by_key[competency]
            target = competencies[i]["criteria"]
        else:
            b.problems.append(
                (
                    place,
                    _(
                        "no competency with key %(key)s on the competencies sheet",
                        key=repr(competency),
                    ),
                )
                if competency is not None
                else (place, _("must name the key of a competency from the competencies sheet"))
            )
            # Checked all the same, as part of a stand-in competency, so every problem shows.
            i = orphan_index
            target = orphans
        j = len(target)
        path = ("competencies", i, "criteria", j)
        criterion: dict[str, Any] = {}
        for column in LOOK_FORS.columns[1:]:
            key = column.name.replace(" ", "_")
            if column.name == "not observed":
                value = b.value(
                    LOOK_FORS,
                    row,
                    values,
                    cols.get(column.name),
                    column.kind,
                    (*path, "scale", "not_observed"),
                )
                if value is not None:
                    criterion["scale"] = {"not_observed": value}
                continue
            value = b.value(
                LOOK_FORS, row, values, cols.get(column.name), column.kind, (*path, key)
            )
            b.put(criterion, key, value)
        descriptors: dict[int, Any] = {}
        for name, column_number in cols.items():
            if name.startswith("d:"):
                described = int(name[2:])
                value = b.value(
                    LOOK_FORS, row, values, column_number, "text", (*path, "descriptors", described)
                )
                if value is not None:
                    descriptors[described] = value
        if descriptors:
            criterion["descriptors"] = descriptors
        b.places[path] = b.places.get((*path, "key"), place)
        b.places[(*path, "scale")] = b.places[path]
        if isinstance(criterion.get("key"), str):
            criterion_at.setdefault(criterion["key"], (i, j))
        target.append(criterion)
    if orphans:
        competencies.append({"key": "x", "name": "x", "criteria": orphans})
        b.dropped.append(("competencies", orphan_index))

    # scale: the rubric's levels, and the levels of any look-for with a scale of its own
    cols = layout[SCALE.name] or {}
    scale_name = b.sheets[SCALE.name].name
    b.places[("scale",)] = Place(scale_name)
    b.places[("scale", "levels")] = Place(scale_name)
    b.notes[("scale", "levels")] = "missing:" + _(
        "the scale sheet needs the rubric's levels (rows with no look-for)"
    )
    rubric_levels: list[dict[str, Any]] = []
    own_levels: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for row, values in b.rows(SCALE):
        look_for = None
        if "look-for" in cols:
            c = cols["look-for"]
            if c <= len(values) and values[c - 1] is not None:
                look_for = convert(values[c - 1], "slug")
        if look_for is None:
            levels = rubric_levels
            path = ("scale", "levels", len(levels))
        elif look_for in criterion_at:
            owner_at = criterion_at[look_for]
            owner = ("competencies", owner_at[0], "criteria", owner_at[1])
            levels = own_levels.setdefault(owner_at, [])
            b.places.setdefault(
                (*owner, "scale", "levels"), Place(scale_name, row, cols["look-for"])
            )
            path = (*owner, "scale", "levels", len(levels))
        else:
            b.problems.append(
                (
                    Place(scale_name, row, cols["look-for"]),
                    _("no look-for with key %(key)s on the look-fors sheet", key=repr(look_for)),
                )
            )
            continue
        level: dict[str, Any] = {}
        for column in SCALE.columns[:3]:
            value = b.value(
                SCALE, row, values, cols.get(column.name), column.kind, (*path, column.name)
            )
            b.put(level, column.name, value)
        b.places[path] = b.places[(*path, "value")]
        levels.append(level)
    if rubric_levels:
        data["scale"]["levels"] = rubric_levels
    for (i, j), levels in own_levels.items():
        criterion = competencies[i]["criteria"][j] if i < orphan_index else orphans[j]
        criterion.setdefault("scale", {})["levels"] = levels

    # context fields and glossary: one row each
    for sheet, key in ((CONTEXT_FIELDS, "context_fields"), (GLOSSARY, "glossary")):
        cols = layout[sheet.name] or {}
        items: list[dict[str, Any]] = []
        for row, values in b.rows(sheet):
            path = (key, len(items))
            item = {}
            for column in sheet.columns:
                value = b.value(
                    sheet, row, values, cols.get(column.name), column.kind, (*path, column.name)
                )
                b.put(item, column.name, value)
            b.places[path] = b.places[(*path, sheet.columns[0].name)]
            items.append(item)
        if items:
            data[key] = items

    _read_translations(b, layout[TRANSLATIONS.name] or {}, data)

    def where(path: Path) -> str:
        for leaf in ("key", "term"):
            if (*path, leaf) in b.places:
                return str(b.places[(*path, leaf)])
        return str(_locate(b.places, path))

    # The fields' messages come in English, so that _reword can recognise them; each is put in
    # the reader's language once reworded.
    document, found = check_data(data, where, localize=False)
    for path, message in found:
        if any(path[: len(d)] == d and not _inside_criteria(path, d) for d in b.dropped):
            continue
        reworded = _reword(b, path, message)
        if reworded is not None:
            b.problems.append((_locate(b.places, path), _(reworded)))
    if b.problems or document is None:
        raise _error(source_name, b.problems)
    return ParsedRubric(
        document=document,
        source_name=source_name,
        source_text=to_yaml(
            document, note=f"observe wrote this from the spreadsheet {source_name}"
        ),
    )


def _read_translations(b: _Builder, cols: dict[str, int], data: dict[str, Any]) -> None:
    """The translations sheet: each row's text becomes the ``{language: text}`` value a YAML
    file would hold; format.check_data then validates it as it validates a YAML file's."""
    if TRANSLATIONS.name not in b.sheets:
        return
    name = b.sheets[TRANSLATIONS.name].name
    targets = translated.Targets(data)
    sheets = {_norm(sheet): sheet for sheet in translated.COLUMNS}
    for row, values in b.rows(TRANSLATIONS):
        cell = {
            c.name: (values[cols[c.name] - 1] if cols[c.name] <= len(values) else None)
            for c in TRANSLATIONS.columns
        }
        place = {c.name: Place(name, row, cols[c.name]) for c in TRANSLATIONS.columns}
        empty = [c.name for c in TRANSLATIONS.columns if cell[c.name] is None]
        if empty:
            for column in empty:
                b.problems.append((place[column], _("must not be empty")))
            continue
        language = convert(cell["language"], "slug")
        text = convert(cell["text"], "text")
        sheet = sheets.get(_norm(str(convert(cell["sheet"], "text"))))
        if sheet is None:
            allowed = ", ".join(translated.COLUMNS)
            b.problems.append(
                (
                    place["sheet"],
                    _(
                        "unknown sheet %(name)s; use %(allowed)s",
                        name=repr(cell["sheet"]),
                        allowed=allowed,
                    ),
                )
            )
            continue
        key = str(convert(cell["key"], "text"))
        path, problem = targets.find(sheet, key)
        if path is None:
            # A row left behind when its look-for (or level, …) was deleted says what to do.
            b.problems.append(
                (
                    place["key"],
                    _(
                        "%(problem)s on the %(sheet)s sheet; if it was removed, remove this row",
                        problem=problem,
                        sheet=sheet,
                    ),
                )
            )
            continue
        field, index, problem = translated.field_of(
            sheet, key, str(convert(cell["column"], "text"))
        )
        if problem:
            b.problems.append((place["column"], problem))
            continue
        at, problem = translated.translate(data, path, field, index, str(language), str(text))
        if at is None:
            b.problems.append((place["key"], problem))
            continue
        b.places[(*at, str(language))] = place["text"]
        if (*at, "language") not in b.places:
            b.places[(*at, "language")] = place["language"]
    languages = data.get("languages")
    default = languages[0] if isinstance(languages, list) and languages else "en"
    translated.settle_defaults(data, str(default))


def _inside_criteria(path: Path, dropped: Path) -> bool:
    return len(path) > len(dropped) + 1 and path[len(dropped)] == "criteria"


def _locate(places: Mapping[Path, Place], path: Path) -> Place:
    for end in range(len(path), 0, -1):
        if path[:end] in places:
            return places[path[:end]]
    return Place(RUBRIC.name)


def _reword(b: _Builder, path: Path, message: str) -> str | None:
    """Say a YAML-worded message in a spreadsheet's terms (None: already said)."""
    note = b.notes.get(path, "")
    if note == "formula" and message in ("required key is missing", "must not be empty"):
        return None
    if message == "required key is missing":
        if note.startswith("missing:"):
            return note[len("missing:") :]
        return _("must not be empty")
    if note.startswith("no look-fors:") and message.startswith("must list at least one"):
        return note[len("no look-fors:") :]
    if note.startswith("a date") and message.startswith("must be"):
        return _(
            "%(problem)s; this cell holds %(note)s (format it as text)",
            problem=_(message),
            note=_("a date or time") if note == "a date or time" else note,
        )

    # "already used by levels[0]" → the cell of that level
    def cell_of(match: re.Match[str]) -> str:
        sibling = (*path[:-2], int(match.group(1)), path[-1])
        return str(b.places.get(sibling, match.group(0)))

    return re.sub(r"levels\[(\d+)\]", cell_of, message)


def _error(source_name: str, problems: list[tuple[Place, str]]) -> RubricFileError:
    ordered = sorted(set(problems), key=lambda p: (p[0].order, str(p[0]), p[1]))
    return RubricFileError([f"{source_name}: {place}: {message}" for place, message in ordered])


# --- writing a workbook -----------------------------------------------------------------------


class SpreadsheetExportError(ValueError):
    """A document that a spreadsheet cannot hold (rare: text with control characters)."""


ABOUT_TEXT = (
    "This workbook is an observe rubric (format observe-rubric/1). Load it with "
    "`observe rubrics load FILE.xlsx`, or on the Rubrics > Load a rubric file page.",
    "Every sheet's first row names its columns; leave the names as they are. Empty rows are "
    "skipped. Type values: formulas are refused. This sheet is never read.",
    "rubric: one row per field (key, title, description, not observed). The key says which "
    "rubric this is: the same key with new content becomes its next version.",
    "competencies: one row per competency, in order: key, name, description.",
    "look-fors: one row per look-for, in order. competency is the key of its competency; kind "
    "is student or adult; dimensions lists identity, power, access, achievement separated by "
    "commas; not observed (TRUE/FALSE) overrides the rubric's rule; required (TRUE) means every "
    "walkthrough must rate it before it is submitted; continues names the key of the look-for of "
    "the previous version this one continues (its trend goes on); 'descriptor N' columns hold "
    "descriptors written for this look-for at level value N.",
    "scale: the levels, lowest first: value, label, descriptor. Rows that name a look-for give "
    "that look-for a complete scale of its own.",
    "context fields: one row per question asked once per visit; options one per line in the "
    "cell (Alt+Enter, or Option+Return on a Mac); multiple and required are TRUE or FALSE.",
    "glossary: one row per term: term, definition.",
    "translations (when the rubric field languages lists more than one, the first being the "
    "language of the other sheets): one row per translated text: language; sheet and key name "
    "the row translated (a field of the rubric sheet, a competency's, look-for's or context "
    "field's key, a level's value, or look-for-key:value for a look-for's own scale, a glossary "
    "term); column names what is translated (name, text, evidence prompt, descriptor N, label, "
    "option N, term, definition, value); text is the translation.",
    "The full description: docs/rubric-format.md, section Spreadsheets.",
)


def write_workbook(document: Mapping[str, Any]) -> bytes:
    """An .xlsx workbook holding ``document``; reading it back gives the same content hash."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    assert workbook.active is not None
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def sheet(spec: Sheet, headers: list[str], rows: list[list[Any]], widths: list[int]) -> None:
        ws = workbook.create_sheet(spec.name)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = bold
        for number, values in enumerate(rows, start=2):
            for column, value in enumerate(values, start=1):
                if value is None or value == "":
                    continue
                if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
                    where = f"{spec.name}!{column_letter(column)}{number}"
                    raise SpreadsheetExportError(
                        _(
                            "%(where)s: the text holds a control character that a spreadsheet "
                            "cannot store",
                            where=where,
                        )
                    )
                cell = ws.cell(row=number, column=column, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text that starts with = stays text, not a formula
                    cell.alignment = wrap
        for column, width in enumerate(widths, start=1):
            ws.column_dimensions[column_letter(column)].width = width
        ws.freeze_panes = "A2"

    scale = document["scale"]
    sheet(
        RUBRIC,
        ["field", "value"],
        [
            ["format", document["format"]],
            ["key", document["key"]],
            ["title", document["title"]],
            ["description", document.get("description", "")],
            *(
                [["languages", ", ".join(document["languages"])]]
                if document.get("languages")
                else []
            ),
            ["not observed", scale["not_observed"]],
        ],
        [c.width for c in RUBRIC.columns],
    )
    sheet(
        COMPETENCIES,
        [c.name for c in COMPETENCIES.columns],
        [[c["key"], c["name"], c.get("description", "")] for c in document["competencies"]],
        [c.width for c in COMPETENCIES.columns],
    )
    level_values = {level["value"] for level in scale["levels"]}
    for competency in document["competencies"]:
        for item in competency["criteria"]:
            level_values |= {int(v) for v in item.get("descriptors", {})}
            level_values |= {lv["value"] for lv in item.get("scale", {}).get("levels", [])}
    descriptor_columns = sorted(level_values)
    look_for_rows = []
    own_levels: list[list[Any]] = []
    for competency in document["competencies"]:
        for item in competency["criteria"]:
            own = item.get("scale", {})
            descriptors = item.get("descriptors", {})
            look_for_rows.append(
                [
                    competency["key"],
                    item["key"],
                    item["kind"],
                    item["text"],
                    ", ".join(item["dimensions"]),
                    item.get("evidence_prompt", ""),
                    own.get("not_observed"),
                    True if item.get("required") else None,
                    item.get("continues"),
                    *(descriptors.get(str(v)) for v in descriptor_columns),
                ]
            )
            own_levels += [
                [lv["value"], lv["label"], lv.get("descriptor", ""), item["key"]]
                for lv in own.get("levels", [])
            ]
    sheet(
        LOOK_FORS,
        [c.name for c in LOOK_FORS.columns] + [f"descriptor {v}" for v in descriptor_columns],
        look_for_rows,
        [c.width for c in LOOK_FORS.columns] + [30] * len(descriptor_columns),
    )
    sheet(
        SCALE,
        [c.name for c in SCALE.columns],
        [[lv["value"], lv["label"], lv.get("descriptor", ""), None] for lv in scale["levels"]]
        + own_levels,
        [c.width for c in SCALE.columns],
    )
    rows = []
    for item in document.get("context_fields", []):
        if any("\n" in option or "\r" in option for option in item["options"]):
            raise SpreadsheetExportError(
                _(
                    "context field %(key)s has an option with a line break; a spreadsheet cell "
                    "holds one option per line",
                    key=repr(item["key"]),
                )
            )
        rows.append(
            [
                item["key"],
                item["label"],
                "\n".join(item["options"]),
                item["multiple"],
                item["required"],
            ]
        )
    sheet(
        CONTEXT_FIELDS,
        [c.name for c in CONTEXT_FIELDS.columns],
        rows,
        [c.width for c in CONTEXT_FIELDS.columns],
    )
    sheet(
        GLOSSARY,
        [c.name for c in GLOSSARY.columns],
        [[e["term"], e["definition"]] for e in document.get("glossary", [])],
        [c.width for c in GLOSSARY.columns],
    )
    # Written even when empty, so a district finds where its translations go.
    sheet(
        TRANSLATIONS,
        [c.name for c in TRANSLATIONS.columns],
        list(translated.rows(document)),
        [c.width for c in TRANSLATIONS.columns],
    )
    about = workbook.create_sheet(ABOUT)
    for line in ABOUT_TEXT:
        about.append([line])
        about.cell(row=about.max_row, column=1).alignment = wrap
    about.column_dimensions["A"].width = 110
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
