"""observe/photos/api.py: uploading a photo to a walkthrough and reading it back."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from observe.core.permissions import Role
from observe.extensions import db
from observe.photos.models import Photo
from tests.photos.conftest import image_bytes, sha


def _stored(app) -> list[Path]:
    return sorted(p for p in Path(app.config["OBSERVE_PHOTO_DIR"]).rglob("*") if p.is_file())


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Photo)) or 0


def test_a_photo_is_stored_once_and_read_back(app, client, bearer, setting, walkthrough, upload):
    data = image_bytes("JPEG", (80, 60))
    first = upload(walkthrough["observation_id"], data, criterion="ct-explain-reasoning")
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["sha256"] == sha(data)
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 80, 60)
    assert body["bytes"] == len(data) and body["criterion"] == "ct-explain-reasoning"

    # A retry after a lost answer is the same photo: 200, one row, one file.
    again = upload(walkthrough["observation_id"], data, criterion="ct-explain-reasoning")
    assert again.status_code == 200
    assert _count() == 1
    files = [p for p in _stored(app) if walkthrough["observation_id"] in str(p)]
    assert len(files) == 1 and files[0].read_bytes() == data
    assert files[0].stat().st_mode & 0o077 == 0  # readable by its owner only

    read = client.get(
        f"/api/v1/observations/{walkthrough['observation_id']}/photos/{sha(data)}",
        headers=bearer(setting.observer),
    )
    assert read.status_code == 200
    assert read.mimetype == "image/jpeg" and read.data == data
    assert "sandbox" in read.headers["Content-Security-Policy"]
    assert read.headers["X-Content-Type-Options"] == "nosniff"
    assert read.headers["Cache-Control"] == "private, no-store"


def test_png_and_webp_are_kept_and_the_whole_walkthrough_is_a_place(walkthrough, upload):
    for kind, mime in (("PNG", "image/png"), ("WEBP", "image/webp")):
        response = upload(walkthrough["observation_id"], image_bytes(kind), content_type=mime)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["content_type"] == mime
        assert response.get_json()["criterion"] is None


def test_a_hash_that_does_not_match_stores_nothing(app, walkthrough, upload):
    data = image_bytes()
    response = upload(walkthrough["observation_id"], data, digest=sha(b"something else"))
    assert response.status_code == 422
    assert "hash to" in response.get_json()["error"]["details"]["sha256"]
    assert _count() == 0 and _stored(app) == []
    bad_address = upload(walkthrough["observation_id"], data, digest="ABC")
    assert bad_address.status_code == 422
    assert "64 lower-case hex" in bad_address.get_json()["error"]["details"]["sha256"]


def test_what_is_not_a_jpeg_png_or_webp_is_refused(app, walkthrough, upload):
    for data, content_type in (
        (b"%PDF-1.7 not a photo at all", "image/jpeg"),
        (b"GIF89a" + image_bytes("GIF")[6:], "image/gif"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\xff\xd8\xff\xe0 cut short", "image/jpeg"),  # starts like a JPEG, is not one
    ):
        response = upload(walkthrough["observation_id"], data, content_type=content_type)
        assert response.status_code == 415, (data[:10], response.get_json())
        message = response.get_json()["error"]["message"]
        assert "not stored" in message
    # A PNG declared as a JPEG: the bytes decide, and the disagreement is named.
    mislabelled = upload(
        walkthrough["observation_id"], image_bytes("PNG"), content_type="image/jpeg"
    )
    assert mislabelled.status_code == 415
    assert "PNG image but was sent as 'image/jpeg'" in mislabelled.get_json()["error"]["message"]
    assert _count() == 0 and _stored(app) == []


def test_a_photo_over_the_limit_is_refused_before_it_is_read(app, walkthrough, upload):
    app.config["OBSERVE_PHOTO_MAX_BYTES"] = 20_000
    try:
        big = image_bytes("PNG", (400, 400), "white")
        noisy = big + b"\0" * 30_000  # a PNG ignores what follows its end
        response = upload(walkthrough["observation_id"], noisy, content_type="image/png")
        assert response.status_code == 413
        assert "at most 20,000 are kept" in response.get_json()["error"]["message"]
    finally:
        app.config["OBSERVE_PHOTO_MAX_BYTES"] = 5 * 1024 * 1024
    assert _count() == 0 and _stored(app) == []


def test_only_the_author_uploads(app, create_user, bearer, setting, walkthrough, upload):
    leader = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    other = create_user(Role.OBSERVER, schools=[setting.school])
    admin = create_user(Role.DISTRICT_ADMIN)
    data = image_bytes()
    # Someone who may read it (its school's leader, an admin) learns they may not add to it.
    for user in (leader, admin):
        response = upload(walkthrough["observation_id"], data, headers=bearer(user))
        assert response.status_code == 403
        assert "Only the walkthrough's author" in response.get_json()["error"]["message"]
    # Someone who may not read it learns nothing.
    assert upload(walkthrough["observation_id"], data, headers=bearer(other)).status_code == 404
    assert _count() == 0 and _stored(app) == []


def test_the_walkthrough_must_be_on_the_server_first(make_version, upload):
    never_pushed = make_version()
    response = upload(never_pushed["observation_id"], image_bytes())
    assert response.status_code == 404
    assert upload("not-a-uuid", image_bytes()).status_code == 404


def test_a_look_for_must_be_of_the_walkthroughs_rubric(walkthrough, upload):
    response = upload(walkthrough["observation_id"], image_bytes(), criterion="no-such-look-for")
    assert response.status_code == 422
    assert "not a look-for" in response.get_json()["error"]["details"]["criterion"]
    assert _count() == 0


def test_photos_turned_off_refuse_every_upload(app, client, walkthrough, upload):
    app.config["OBSERVE_PHOTOS"] = False
    try:
        response = upload(walkthrough["observation_id"], image_bytes())
        assert response.status_code == 403
        error = response.get_json()["error"]
        assert error["code"] == "photos_off" and "OBSERVE_PHOTOS=off" in error["message"]
        page = client.get("/app/").get_data(as_text=True)
        assert '<meta name="observe-photos" content="off">' in page
    finally:
        app.config["OBSERVE_PHOTOS"] = True
    assert _count() == 0
    assert '<meta name="observe-photos" content="on">' in client.get("/app/").get_data(as_text=True)


def test_a_walkthrough_keeps_at_most_twenty(app, walkthrough, upload):
    for n in range(20):
        color = (n * 10, 0, 0)
        data = image_bytes("PNG", (8, 8), color)  # type: ignore[arg-type]
        assert (
            upload(walkthrough["observation_id"], data, content_type="image/png").status_code == 201
        )
    extra = upload(
        walkthrough["observation_id"], image_bytes("PNG", (9, 9)), content_type="image/png"
    )
    assert extra.status_code == 409 and "20 photos" in extra.get_json()["error"]["message"]
    assert _count() == 20


def test_photos_go_with_the_walkthrough(app, client, bearer, setting, walkthrough, upload):
    data = image_bytes()
    assert upload(walkthrough["observation_id"], data).status_code == 201
    assert _stored(app)
    headers = bearer(setting.observer)
    deleted = client.delete(
        f"/api/v1/observations/{walkthrough['observation_id']}", headers=headers
    )
    assert deleted.status_code == 200
    assert _count() == 0
    assert not [p for p in _stored(app) if walkthrough["observation_id"] in str(p)]
    assert not (Path(app.config["OBSERVE_PHOTO_DIR"]) / walkthrough["observation_id"]).exists()
    read = client.get(
        f"/api/v1/observations/{walkthrough['observation_id']}/photos/{sha(data)}", headers=headers
    )
    assert read.status_code == 404
    again = upload(walkthrough["observation_id"], data)
    assert again.status_code == 409 and "deleted" in again.get_json()["error"]["message"]


def test_reading_a_photo_needs_the_right_to_read_the_walkthrough(
    create_user, bearer, client, setting, walkthrough, upload
):
    data = image_bytes()
    assert upload(walkthrough["observation_id"], data).status_code == 201
    path = f"/api/v1/observations/{walkthrough['observation_id']}/photos/{sha(data)}"
    leader = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    leader_elsewhere = create_user(Role.SCHOOL_LEADER, schools=[setting.other_school])
    colleague = create_user(Role.OBSERVER, schools=[setting.school])
    admin = create_user(Role.DISTRICT_ADMIN)
    for user, status in ((leader, 200), (admin, 200), (leader_elsewhere, 404), (colleague, 404)):
        assert client.get(path, headers=bearer(user)).status_code == status, user.role
    assert client.get(path).status_code == 401
    unknown = f"/api/v1/observations/{walkthrough['observation_id']}/photos/{'0' * 64}"
    assert client.get(unknown, headers=bearer(leader)).status_code == 404


def test_the_walkthrough_page_shows_its_photos(client, sign_in, setting, walkthrough, upload):
    data = image_bytes()
    assert (
        upload(walkthrough["observation_id"], data, criterion="ct-explain-reasoning").status_code
        == 201
    )
    page = sign_in(setting.observer).get(f"/walkthroughs/{walkthrough['observation_id']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"/api/v1/observations/{walkthrough['observation_id']}/photos/{sha(data)}" in html
    assert '<h2 id="photos-heading">Photos</h2>' in html
    assert "evidence for" in html  # the alt text names the look-for


def test_photos_are_never_in_the_feedback_or_the_export(
    client, sign_in, setting, walkthrough, upload
):
    data = image_bytes()
    assert upload(walkthrough["observation_id"], data).status_code == 201
    signed_in = sign_in(setting.observer)
    for path in (
        f"/walkthroughs/{walkthrough['observation_id']}/feedback",
        "/api/v1/exports/observations?format=json",
        f"/api/v1/observations/{walkthrough['observation_id']}",
    ):
        body = signed_in.get(path).get_data(as_text=True)
        assert sha(data) not in body and "/photos/" not in body, path
