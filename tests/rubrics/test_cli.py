"""``observe rubrics export``, and ``observe rubrics load`` with workbooks and CSV folders."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from observe import paths
from observe.extensions import db
from observe.rubrics.format import parse_rubric
from observe.rubrics.models import RubricVersion
from observe.rubrics.operations import load_rubric_file
from observe.rubrics.spreadsheet import write_workbook
from tests.rubrics.test_spreadsheet import write_csv_folder

SAMPLES = ("portrait-of-a-graduate.yaml", "quick-look-fors.yaml")


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=["rubrics", *args])

    return invoke


def versions() -> int:
    return db.session.scalar(select(func.count()).select_from(RubricVersion))


@pytest.mark.parametrize("name", SAMPLES)
def test_an_exported_workbook_loads_as_the_same_version(run, tmp_path, name):
    version = load_rubric_file(paths.SAMPLE_RUBRICS / name).version
    db.session.commit()
    out = tmp_path / "ours.xlsx"
    result = run("export", str(version.id), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {version.title} version 1 to {out}\n"
    assert openpyxl.load_workbook(out).sheetnames[0] == "rubric"
    result = run("load", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == f"unchanged: {version.title} (version 1)\n"
    assert versions() == 1


def test_export_yaml_to_standard_output_by_key(run):
    version = load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").version
    db.session.commit()
    for name in ("quick-look-fors", "quick-look-fors@1", str(version.id)):
        result = run("export", name, "--format", "yaml")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("# Quick Look-Fors, version 1 (sha256 ")
        assert parse_rubric(result.output, "x").content_hash == version.content_hash


def test_export_refuses_what_it_cannot_do(run, tmp_path):
    load_rubric_file(paths.SAMPLE_RUBRICS / "quick-look-fors.yaml")
    db.session.commit()
    result = run("export", "quick-look-fors@2")
    assert result.exit_code == 1
    assert "there is no rubric version 'quick-look-fors@2'" in result.stderr
    result = run("export", "quick-look-fors", "--format", "xlsx")
    assert result.exit_code == 1
    assert "an .xlsx workbook needs a file: add -o FILE.xlsx" in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_directory_loads_its_workbooks_and_csv_folders(run, tmp_path):
    portrait = parse_rubric((paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text(), "p")
    quick = parse_rubric((paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").read_text(), "q")
    (tmp_path / "portrait.xlsx").write_bytes(write_workbook(portrait.document))
    write_csv_folder(
        tmp_path / "quick", openpyxl.load_workbook(io.BytesIO(write_workbook(quick.document)))
    )
    result = run("load", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert sorted(result.output.splitlines()) == [
        "loaded Portrait of a Graduate Walkthrough as version 1",
        "loaded Quick Look-Fors as version 1",
    ]
    stored = db.session.scalars(select(RubricVersion).order_by(RubricVersion.title)).all()
    assert [v.content_hash for v in stored] == [portrait.content_hash, quick.content_hash]
    assert stored[1].source_name == str(tmp_path / "quick")


def test_a_workbook_with_problems_loads_nothing(run, tmp_path):
    quick = parse_rubric((paths.SAMPLE_RUBRICS / "quick-look-fors.yaml").read_text(), "q")
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(quick.document)))
    workbook["look-fors"]["E4"] = "fairness"
    path = tmp_path / "quick.xlsx"
    workbook.save(path)
    (tmp_path / "fine.yaml").write_text(
        (paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").read_text()
    )
    result = run("load", str(tmp_path))
    assert result.exit_code == 1
    assert f"{path}: look-fors!E4: unknown equity dimension 'fairness'" in result.stderr
    assert "Nothing was loaded: 1 problem in 1 of 2 files." in result.stderr
    assert versions() == 0
