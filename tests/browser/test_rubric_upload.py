"""A district admin loads an edited rubric workbook from a tablet: preview, changes, confirm."""

from __future__ import annotations

import io

import openpyxl
from playwright.sync_api import Page, expect

from observe import paths
from observe.core.permissions import Role
from observe.extensions import db
from observe.rubrics.operations import load_rubric_file
from observe.rubrics.spreadsheet import write_workbook
from tests.browser.test_sign_in import serious_violations
from tests.conftest import PASSWORD


def test_an_admin_previews_and_loads_an_edited_workbook(
    page: Page, live_server, create_user, screenshot_dir, tmp_path
):
    current = load_rubric_file(paths.SAMPLE_RUBRICS / "portrait-of-a-graduate.yaml").version
    db.session.commit()
    create_user(Role.DISTRICT_ADMIN, email="admin@example.org", name="Dana Whitfield")

    # The district edits last term's rubric in a spreadsheet: one look-for reworded, one
    # removed, one added.
    workbook = openpyxl.load_workbook(io.BytesIO(write_workbook(current.document)))
    look_fors = workbook["look-fors"]
    look_fors["D2"] = "Students explain their reasoning and respond to one another's evidence."
    removed = look_fors["B4"].value
    look_fors.delete_rows(4)
    # Its Spanish goes with it, as the translations sheet's message says.
    translations = workbook["translations"]
    for row in range(translations.max_row, 1, -1):
        if translations.cell(row=row, column=3).value == removed:
            translations.delete_rows(row)
    look_fors.append(
        [
            "communicator",
            "co-listen",
            "student",
            "Students paraphrase a peer before responding.",
            "power",
            "Quote a paraphrase you heard.",
        ]
    )
    edited = tmp_path / "portrait-2027.xlsx"
    workbook.save(edited)
    broken = tmp_path / "broken.xlsx"
    look_fors["C3"] = "teacher"
    workbook.save(broken)

    page.goto(live_server + "/sign-in")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Rubrics").click()
    page.get_by_role("link", name="Load a rubric file").click()

    page.get_by_label("Rubric file").set_input_files(str(broken))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "broken.xlsx: look-fors!C3: must be student or adult; got 'teacher'"
    )
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "rubric-upload-problems-landscape.png", full_page=True)

    page.get_by_label("Rubric file").set_input_files(str(edited))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="1 look-for added")).to_be_visible()
    expect(page.get_by_role("heading", name="1 look-for removed")).to_be_visible()
    expect(page.get_by_role("heading", name="1 look-for reworded")).to_be_visible()
    assert serious_violations(page) == []
    page.screenshot(path=screenshot_dir / "rubric-upload-preview-landscape.png")
    page.screenshot(
        path=screenshot_dir / "rubric-upload-preview-landscape-full.png", full_page=True
    )
    page.set_viewport_size({"width": 768, "height": 1024})
    page.screenshot(path=screenshot_dir / "rubric-upload-preview-portrait.png")

    page.get_by_role("button", name="Load as version 2").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Loaded Portrait of a Graduate Walkthrough as version 2."
    )
    expect(page.get_by_text("Students paraphrase a peer before responding.")).to_be_visible()
    page.screenshot(path=screenshot_dir / "rubric-upload-loaded-portrait.png")
