"""observe/photos/operations.py: photos go with their walkthrough, but only once it commits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from observe.extensions import db
from observe.observations import operations as walkthroughs
from observe.photos import operations
from observe.photos.models import Photo
from tests.photos.conftest import image_bytes, sha


def test_a_rolled_back_deletion_keeps_the_photo(app, setting, walkthrough) -> None:
    data = image_bytes()
    photo, created = operations.add_photo(
        setting.observer, walkthrough["observation_id"], sha(data), data, None, None
    )
    db.session.commit()
    assert created
    path = Path(app.config["OBSERVE_PHOTO_DIR"]) / photo.storage_key
    walkthroughs.delete_observation(setting.observer, walkthrough["observation_id"])
    assert path.exists()  # not before the commit
    db.session.rollback()
    assert path.exists()
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 1

    walkthroughs.delete_observation(setting.observer, walkthrough["observation_id"])
    db.session.commit()
    assert not path.exists()
    assert db.session.scalar(select(func.count()).select_from(Photo)) == 0


def test_a_file_lost_from_the_storage_is_put_back_by_the_same_upload(app, setting, walkthrough):
    data = image_bytes()
    photo, _ = operations.add_photo(
        setting.observer, walkthrough["observation_id"], sha(data), data, "image/jpeg", None
    )
    db.session.commit()
    path = Path(app.config["OBSERVE_PHOTO_DIR"]) / photo.storage_key
    path.unlink()  # a database restored without its photo files
    again, created = operations.add_photo(
        setting.observer, walkthrough["observation_id"], sha(data), data, "image/jpeg", None
    )
    db.session.commit()
    assert not created and again.id == photo.id
    assert path.read_bytes() == data
