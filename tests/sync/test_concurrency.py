"""The pull cursor never skips a change, even while many devices push at once.

On PostgreSQL transactions really do commit concurrently and out of the order they started in;
a feed ordered by a plain auto-increment id would let a reader's cursor pass a row that commits
later. This test pushes from several threads while another pulls, and checks the reader saw
every observation exactly as pushed.
"""

from __future__ import annotations

import threading
import time

from flask.testing import FlaskClient

from observe.accounts import operations as accounts
from observe.extensions import db


def test_a_reader_following_the_cursor_misses_nothing(app, setting, make_version):
    writers, per_writer = 6, 15
    tokens = []
    for _ in range(writers + 1):
        _, secret = accounts.create_token(setting.observer, "concurrency")
        tokens.append({"Authorization": f"Bearer {secret}"})
    db.session.commit()
    batches = [[[make_version()] for _ in range(per_writer)] for _ in range(writers)]
    pushed = {v["observation_id"] for batch in batches for item in batch for v in item}

    done = threading.Event()
    failures: list[str] = []

    def write(index: int) -> None:
        client = FlaskClient(app, app.response_class)
        for versions in batches[index]:
            response = client.post(
                "/api/v1/sync/push",
                json={"device_id": f"tablet-{index}", "versions": versions},
                headers=tokens[index],
            )
            if response.status_code != 200:
                failures.append(f"push {response.status_code}: {response.get_data(as_text=True)}")
            elif response.get_json()["results"][0]["status"] != "applied":
                failures.append(str(response.get_json()))

    seen: list[int] = []
    observed: set[str] = set()

    def read() -> None:
        client = FlaskClient(app, app.response_class)
        cursor = "0"
        while True:
            finished = done.is_set()  # read before pulling: one more full pass after the end
            while True:
                page = client.get(
                    f"/api/v1/sync/pull?cursor={cursor}&limit=7", headers=tokens[-1]
                ).get_json()
                for change in page["changes"]:
                    seen.append(change["seq"])
                    if change["kind"] == "observation":
                        observed.add(change["observation"]["id"])
                cursor = page["cursor"]
                if not page["has_more"]:
                    break
            if finished:
                return
            time.sleep(0.02)  # a device pulls now and then, not in a tight loop

    reader = threading.Thread(target=read)
    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=120)

    assert failures == []
    assert seen == sorted(seen) and len(seen) == len(set(seen)), "the feed went backwards"
    assert observed == pushed
