"""Photos on the tablet: taken offline, kept through reloads, sent exactly once after the
walkthrough's version, shown on the walkthrough's page; none when the district turns them off."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from observe.extensions import db
from observe.observations.models import Observation
from observe.photos.models import Photo
from tests.browser.conftest import TABLET_VIEWPORTS
from tests.browser.test_sign_in import serious_violations
from tests.browser.test_tablet import open_app, record_walkthrough


@pytest.fixture
def district(riverbend):
    riverbend()


def camera_file(tmp_path: Path, name: str, size: tuple[int, int], color: str) -> Path:
    """A photo as a camera gives it: big, with a gradient (a flat colour compresses to nothing)."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.paste(Image.new("RGB", (size[0] // 3, size[1] // 3), color), (size[0] // 3, size[1] // 3))
    path = tmp_path / name
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    path.write_bytes(buffer.getvalue())
    return path


def stored_photos() -> list[Photo]:
    db.session.rollback()
    return list(db.session.scalars(select(Photo).order_by(Photo.criterion_key)))


def test_a_photo_taken_offline_survives_reloads_and_is_sent_once(
    app: Flask, context: BrowserContext, page: Page, live_server, district, screenshot_dir, tmp_path
):
    puts: list[str] = []
    page.on("request", lambda r: puts.append(r.url) if r.method == "PUT" else None)
    open_app(page, live_server)
    context.set_offline(True)
    record_walkthrough(page, submit=False)

    first = page.locator(".criterion").first
    # The note about faces: always under the walkthrough's own camera; under a look-for's once
    # its camera has focus (it is the button's description either way).
    notes = page.locator("#notes").locator("xpath=..")
    expect(notes.get_by_text("avoid students' faces")).to_be_visible()
    first.locator(".photo-input").focus()
    expect(first.get_by_text("avoid students' faces")).to_be_visible()
    first.locator(".photo-input").set_input_files(
        camera_file(tmp_path, "board.jpg", (3200, 2400), "red")
    )
    expect(first.get_by_text("Photo saved on this tablet.")).to_be_visible()
    expect(first.get_by_role("img", name="Photo 1 for this look-for")).to_be_visible()
    # The same picture again is the same photo.
    first.locator(".photo-input").set_input_files(
        camera_file(tmp_path, "board.jpg", (3200, 2400), "red")
    )
    expect(first.get_by_text("Not added: already attached.")).to_be_visible()

    whole = page.locator('[data-photos=""]')
    whole.locator(".photo-input").set_input_files(
        camera_file(tmp_path, "work.jpg", (1200, 1800), "blue")
    )
    expect(whole.get_by_role("img", name="Photo 1 of the walkthrough")).to_be_visible()
    # A photo taken by mistake goes before submit, and never reaches the server.
    whole.locator(".photo-input").set_input_files(
        camera_file(tmp_path, "oops.jpg", (800, 600), "green")
    )
    expect(whole.get_by_role("img", name="Photo 2 of the walkthrough")).to_be_visible()
    whole.get_by_role("button", name="Remove photo 2 of the walkthrough").click()
    expect(whole.get_by_text("Photo removed.")).to_be_visible()
    expect(whole.locator(".photo")).to_have_count(1)
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        first.scroll_into_view_if_needed()
        page.screenshot(path=screenshot_dir / f"app-photos-form-{orientation}.png")
        assert serious_violations(page) == []
    page.set_viewport_size({"width": 1024, "height": 768})

    page.reload()  # offline: the service worker serves the app, IndexedDB keeps the photos
    expect(page.locator(".criterion").first.locator(".photo")).to_have_count(1)
    expect(page.locator('[data-photos=""] .photo')).to_have_count(1)
    page.get_by_role("link", name="Review and submit").click()
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", name="Walkthroughs")).to_be_visible()
    expect(page.locator("#sync-indicator")).to_contain_text("3 waiting")  # a version, 2 photos
    page.reload()
    expect(page.locator("#sync-indicator")).to_contain_text("3 waiting")
    assert stored_photos() == [] and puts == []
    page.get_by_role("region", name="Waiting to sync").get_by_role("link").first.click()
    status = page.get_by_role("region", name="Photos")
    expect(status).to_contain_text("2 photos on this tablet, sent at the next sync.")
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(
            path=screenshot_dir / f"app-photos-waiting-{orientation}.png", full_page=True
        )
        assert serious_violations(page) == []
    page.set_viewport_size({"width": 1024, "height": 768})

    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    photos = stored_photos()
    assert len(photos) == 2 and len(puts) == 2
    observation = db.session.scalars(select(Observation)).one()
    board, work = sorted(photos, key=lambda p: p.criterion_key is None)
    assert board.criterion_key == "ql-target-visible" and work.criterion_key is None
    # Made smaller on the tablet: 1600 pixels on the longest side, JPEG.
    assert (board.width, board.height, board.content_type) == (1600, 1200, "image/jpeg")
    assert (work.width, work.height) == (1067, 1600)
    assert all(p.bytes < 600_000 for p in photos)
    folder = Path(app.config["OBSERVE_PHOTO_DIR"]) / observation.id
    assert sorted(f.name for f in folder.iterdir()) == sorted(p.sha256 for p in photos)

    # Sent exactly once: another sync, and another reload, send nothing more.
    page.get_by_role("button", name="Sync now").click()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    page.reload()
    expect(page.locator("#sync-indicator")).to_contain_text("All saved to the server")
    assert len(puts) == 2 and len(stored_photos()) == 2
    assert (
        page.evaluate(
            """async () => {
          const user = (await (await fetch('/api/v1/me')).json()).id;
          const db = await new Promise((ok) => {
            const r = indexedDB.open(`observe-user-${user}`);
            r.onsuccess = () => ok(r.result);
          });
          return new Promise((ok) => {
            const r = db.transaction('photos').objectStore('photos').count();
            r.onsuccess = () => { db.close(); ok(r.result); };
          });
        }"""
        )
        == 0
    )

    # On the walkthrough's page, for whoever may read it.
    page.goto(f"{live_server}/walkthroughs/{observation.id}")
    gallery = page.get_by_role("region", name="Photos")
    expect(gallery.get_by_role("img")).to_have_count(2)
    expect(gallery).to_contain_text("The whole walkthrough")
    for image in gallery.get_by_role("img").all():
        image.scroll_into_view_if_needed()
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
    for orientation, (width, height) in TABLET_VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        gallery.scroll_into_view_if_needed()
        page.screenshot(path=screenshot_dir / f"walkthrough-photos-{orientation}.png")
        assert serious_violations(page) == []
    # Never in the teacher's feedback.
    page.goto(f"{live_server}/walkthroughs/{observation.id}/feedback")
    assert page.locator("img").count() == 0 or "/photos/" not in page.content()


def test_photos_turned_off_hide_the_camera(app: Flask, page: Page, live_server, district):
    app.config["OBSERVE_PHOTOS"] = False
    try:
        open_app(page, live_server)
        record_walkthrough(page, submit=False)
        expect(page.locator(".criterion").first.get_by_role("button", name="Yes")).to_be_visible()
        assert page.locator(".photo-input, [data-photos]").count() == 0
        assert page.get_by_text("Add a photo").count() == 0
    finally:
        app.config["OBSERVE_PHOTOS"] = True
