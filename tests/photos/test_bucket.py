"""Photos in an S3-compatible bucket (OBSERVE_PHOTO_BUCKET): boto3 against moto's S3 server,
a real HTTP server on 127.0.0.1, through the same API as the directory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from observe.core.permissions import Role
from observe.photos.storage import BucketStorage, check_settings
from tests.photos.conftest import image_bytes, sha


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(app, s3_endpoint, monkeypatch) -> Iterator[Any]:
    """A fresh bucket, and the app storing photos in it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "photos-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "photos-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"observe-photos-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket=name)
    app.config.update(OBSERVE_PHOTO_BUCKET=name, OBSERVE_PHOTO_S3_ENDPOINT=s3_endpoint)
    yield client, name
    app.config.update(OBSERVE_PHOTO_BUCKET="", OBSERVE_PHOTO_S3_ENDPOINT="")


def _keys(client: Any, name: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", []))


def test_a_photo_goes_to_the_bucket_once_and_comes_back(
    app, client, bearer, create_user, setting, walkthrough, upload, bucket, photo_dir
):
    s3, name = bucket
    data = image_bytes("PNG", (50, 40))
    assert upload(walkthrough["observation_id"], data, content_type="image/png").status_code == 201
    assert upload(walkthrough["observation_id"], data, content_type="image/png").status_code == 200
    key = f"{walkthrough['observation_id']}/{sha(data)}"
    assert _keys(s3, name) == [key]
    assert s3.get_object(Bucket=name, Key=key)["Body"].read() == data
    assert not Path(photo_dir).exists()  # nothing in the directory

    leader = create_user(Role.SCHOOL_LEADER, schools=[setting.school])
    read = client.get(
        f"/api/v1/observations/{key.replace('/', '/photos/')}", headers=bearer(leader)
    )
    assert read.status_code == 200 and read.data == data and read.mimetype == "image/png"

    # A refused upload puts nothing in the bucket.
    bad = upload(
        walkthrough["observation_id"], data, digest=sha(b"other"), content_type="image/png"
    )
    assert bad.status_code == 422 and _keys(s3, name) == [key]

    deleted = client.delete(
        f"/api/v1/observations/{walkthrough['observation_id']}", headers=bearer(setting.observer)
    )
    assert deleted.status_code == 200
    assert _keys(s3, name) == []


def test_the_bucket_storage_itself(bucket, app) -> None:
    _, name = bucket
    files = BucketStorage(name, app.config["OBSERVE_PHOTO_S3_ENDPOINT"])
    key = f"{uuid.uuid4()}/{'b' * 64}"
    assert files.get(key) is None
    files.put(key, b"bytes")
    assert files.get(key) == b"bytes"
    files.delete(key)
    files.delete(key)  # gone already: no error
    assert files.get(key) is None
    with pytest.raises(ValueError, match="not a photo key"):
        files.get("../secrets")


def test_a_bucket_without_boto3_stops_the_start(monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_boto3(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "boto3":
            raise ImportError("no boto3")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_boto3)
    check_settings({"OBSERVE_PHOTO_BUCKET": ""})  # no bucket: nothing needed
    with pytest.raises(RuntimeError, match=r"pip install 'observe\[s3\]'"):
        check_settings({"OBSERVE_PHOTO_BUCKET": "district-photos"})
