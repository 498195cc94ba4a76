"""The sync protocol as a state machine: several users and devices, driven by hypothesis.

Devices make walkthroughs and edits offline and push them: in order or shuffled, with the
response sometimes lost (the server stored the batch, the device never heard), the same batch
sent again, two devices editing the same version, walkthroughs deleted and conflicts
reconciled on the server, and pulls in small pages. A model of the server, kept from every
answer the server gave (lost ones included: the test sees them, the device does not),
predicts each version's result exactly. After every step:

* every version answered ``applied`` or ``conflict`` is stored once, with the content sent,
  and nothing else is stored for the walkthroughs of the run;
* each walkthrough's head is what the head rule gives for the versions stored — a function of
  that set alone, so the same versions give the same head whatever order they arrived in —
  and the walkthrough row says what its head says;

and at the end every device sends what is left in its outbox and pulls to the end: the pull
cursor went strictly forward (nothing repeated), and each device's last change for each of its
user's walkthroughs is the server's last (nothing skipped), so every device shows the server's
head of each.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from observe.core.changes import Change
from observe.core.permissions import Role
from observe.extensions import db
from observe.observations.models import Observation, ObservationVersion
from observe.sync.push import prepare

PAGE = 3  # small pages: a full pull turns many pages


@dataclass
class Device:
    name: str
    user: str  # "a" or "b"
    outbox: list[dict[str, Any]] = field(default_factory=list)
    # What the device shows: walkthrough id -> the version it edits from next (None: deleted).
    shows: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    cursor: str = "0"
    seen_seqs: list[int] = field(default_factory=list)
    last_seq_of: dict[str, int] = field(default_factory=dict)
    last_batch: list[dict[str, Any]] = field(default_factory=list)
    pulled: dict[str, dict[str, Any]] = field(default_factory=dict)  # last state pulled of each


@dataclass
class Stored:
    """A version as the server holds it, in the model."""

    observation_id: str
    base: str | None
    saved_at: datetime
    outcome: str
    digest: str | None  # None: made on the server (a reconciliation)


def canonical(version: dict[str, Any]) -> str:
    """The content hash the server stores for a version as the device sends it (the server's
    own normalisation: no database involved)."""
    return prepare([version])[0].digest


def test_the_sync_protocol_keeps_its_invariants(
    app, client, setting, create_user, bearer, make_version
):
    observers = {
        "a": setting.observer,
        "b": create_user(Role.OBSERVER, email="second@example.org", schools=[setting.school]),
    }
    headers = {name: bearer(user) for name, user in observers.items()}
    started = datetime.now(UTC) - timedelta(days=2)
    levels = [1, 2, 3, 4]

    class Protocol(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.devices = [Device(f"{user}-{n}", user) for user in "ab" for n in (1, 2)]
            for device in self.devices:
                page = client.get("/api/v1/bootstrap", headers=headers[device.user]).get_json()
                device.cursor = page["cursor"]
            self.start_cursor = {d.name: int(d.cursor) for d in self.devices}
            self.stored: dict[str, Stored] = {}  # version id -> the server's copy, modelled
            self.owner: dict[str, str] = {}  # walkthrough id -> "a" or "b", once stored
            self.deleted: set[str] = set()
            self.flagged: set[str] = set()  # walkthroughs in conflict
            self.clock = 0  # minutes after ``started``: every save is later than the last

        # -- what a device does offline -------------------------------------------------

        def _tick(self) -> datetime:
            self.clock += 1
            return started + timedelta(minutes=self.clock)

        @rule(which=st.integers(0, 3), level=st.sampled_from(levels))
        def start_walkthrough(self, which: int, level: int) -> None:
            device = self.devices[which]
            moment = self._tick()
            version = make_version(
                observed_at=moment.isoformat(),
                saved_at=moment.isoformat(),
                ratings=[{"criterion": "ct-explain-reasoning", "level": level, "evidence": ""}],
                notes=f"started on {device.name}",
            )
            device.outbox.append(version)
            device.shows[version["observation_id"]] = version

        @precondition(lambda self: any(self._editable(d) for d in self.devices))
        @rule(data=st.data(), level=st.sampled_from(levels), same_moment=st.booleans())
        def edit(self, data: st.DataObject, level: int, same_moment: bool) -> None:
            """An edit of what the device shows; two devices editing the same version make a
            conflict. ``same_moment`` saves it at its base's time: heads tie on saved_at."""
            device = data.draw(st.sampled_from([d for d in self.devices if self._editable(d)]))
            observation_id = data.draw(st.sampled_from(sorted(self._editable(device))))
            base = device.shows[observation_id]
            moment = (
                datetime.fromisoformat(base["saved_at"]) if same_moment else self._tick()
            ).isoformat()
            version = {
                **base,
                "version_id": str(uuid.uuid4()),
                "base_version_id": base["version_id"],
                "saved_at": moment,
                "ratings": [{"criterion": "ct-explain-reasoning", "level": level, "evidence": ""}],
                "notes": f"edited on {device.name} at {self.clock}",
            }
            device.outbox.append(version)
            device.shows[observation_id] = version

        @precondition(lambda self: self._shared())
        @rule(data=st.data(), tie=st.booleans())
        def edit_on_two_devices(self, data: st.DataObject, tie: bool) -> None:
            """Both devices of a user edit the same version the server has (one pulled it):
            a conflict. With ``tie`` both are saved at the same moment, and the head is the
            higher version id."""
            device, observation_id = data.draw(st.sampled_from(self._shared()))
            other = next(d for d in self.devices if d.user == device.user and d is not device)
            base = device.shows[observation_id]
            first = self._tick()
            for editor, moment in ((device, first), (other, first if tie else self._tick())):
                version = {
                    **base,
                    "version_id": str(uuid.uuid4()),
                    "base_version_id": base["version_id"],
                    "saved_at": moment.isoformat(),
                    "notes": f"edited on {editor.name} at {self.clock}",
                }
                editor.outbox.append(version)
                editor.shows[observation_id] = version

        def _shared(self) -> list[tuple[Device, str]]:
            """(device, walkthrough) pairs where the device shows a version the server has."""
            return [
                (d, o)
                for d in self.devices
                for o, shown in sorted(d.shows.items())
                if shown is not None and shown["version_id"] in self.stored
            ]

        def _editable(self, device: Device) -> list[str]:
            return [o for o, shown in device.shows.items() if shown is not None]

        # -- pushes -----------------------------------------------------------------------

        @precondition(lambda self: any(d.outbox for d in self.devices))
        @rule(data=st.data(), lose_response=st.booleans(), shuffle=st.booleans())
        def push(self, data: st.DataObject, lose_response: bool, shuffle: bool) -> None:
            """Part of an outbox, in the order saved or shuffled (batches that overtook each
            other); with ``lose_response`` the server answers but the device never hears."""
            device = data.draw(st.sampled_from([d for d in self.devices if d.outbox]))
            size = data.draw(st.integers(1, len(device.outbox)))
            batch = list(device.outbox[:size])
            if shuffle:
                random.Random(data.draw(st.integers(0, 2**16))).shuffle(batch)
            results = self._send(device, batch)
            device.last_batch = batch
            if not lose_response:
                self._heard(device, batch, results)

        @precondition(lambda self: any(d.last_batch for d in self.devices))
        @rule(data=st.data())
        def retry_last_batch(self, data: st.DataObject) -> None:
            """The same request again, as a device does when it never got an answer."""
            device = data.draw(st.sampled_from([d for d in self.devices if d.last_batch]))
            results = self._send(device, device.last_batch)
            self._heard(device, device.last_batch, results)

        def _send(self, device: Device, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
            expected, heads = [], []
            for version in batch:
                expected.append(self._expect(device, version))
                observation_id = version["observation_id"]
                heads.append(
                    (self._head(observation_id), observation_id in self.flagged)
                    if expected[-1][0] != "rejected"
                    else None
                )
            response = client.post(
                "/api/v1/sync/push",
                json={"device_id": device.name, "versions": batch},
                headers=headers[device.user],
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            results = response.get_json()["results"]
            assert [r["version_id"] for r in results] == [v["version_id"] for v in batch]
            assert [(r["status"], r.get("code")) for r in results] == expected
            for result, head in zip(results, heads, strict=True):
                if head is not None:  # as the server stood just after this version
                    assert (result["head_version_id"], result["has_conflict"]) == head
            return results

        def _expect(self, device: Device, version: dict[str, Any]) -> tuple[str, str | None]:
            """What the server must answer for ``version``, and the model's state after it."""
            version_id, observation_id = version["version_id"], version["observation_id"]
            known = self.stored.get(version_id)
            if known is not None:
                assert known.digest == canonical(version)  # devices never reuse an id
                return "duplicate", None
            base = version["base_version_id"]
            if observation_id in self.deleted:
                return "rejected", "observation_deleted"
            if observation_id in self.owner and self.owner[observation_id] != device.user:
                return "rejected", "not_yours"
            if base is not None and (
                base not in self.stored or self.stored[base].observation_id != observation_id
            ):
                return "rejected", "invalid"  # its base has not reached the server (yet)
            outcome = "applied"
            if observation_id in self.owner and self._head(observation_id) != base:
                outcome = "conflict"
                self.flagged.add(observation_id)
            self.owner[observation_id] = device.user
            self.stored[version_id] = Stored(
                observation_id,
                base,
                datetime.fromisoformat(version["saved_at"]),
                outcome,
                canonical(version),
            )
            return outcome, None

        def _heard(
            self, device: Device, batch: list[dict[str, Any]], results: list[dict[str, Any]]
        ) -> None:
            """The device drops what was answered from its outbox (rejected versions go to
            "needs attention", which is out of the outbox too), as the tablet app does."""
            answered = {r["version_id"] for r in results}
            device.outbox = [v for v in device.outbox if v["version_id"] not in answered]
            pending = {v["observation_id"] for v in device.outbox}
            for version, result in zip(batch, results, strict=True):
                observation_id = version["observation_id"]
                if result.get("code") == "observation_deleted":
                    device.shows[observation_id] = None
                elif result["status"] == "rejected" and observation_id not in pending:
                    # Set aside; the device goes back to the server's version, if it has one.
                    pulled = device.pulled.get(observation_id)
                    if pulled is not None:
                        device.shows[observation_id] = (
                            None if pulled["deleted"] else pulled["version"]
                        )

        # -- on the server ------------------------------------------------------------------

        @precondition(lambda self: self._live())
        @rule(data=st.data())
        def delete(self, data: st.DataObject) -> None:
            observation_id = data.draw(st.sampled_from(self._live()))
            response = client.delete(
                f"/api/v1/observations/{observation_id}",
                headers=headers[self.owner[observation_id]],
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            self.deleted.add(observation_id)  # its conflict flag, if any, stays

        @precondition(lambda self: sorted(self.flagged - self.deleted))
        @rule(data=st.data())
        def reconcile(self, data: st.DataObject) -> None:
            observation_id = data.draw(st.sampled_from(sorted(self.flagged - self.deleted)))
            chosen = data.draw(st.sampled_from(self._leaves(observation_id)))
            response = client.post(
                f"/api/v1/observations/{observation_id}/reconcile",
                json={"version_id": chosen},
                headers=headers[self.owner[observation_id]],
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            history = response.get_json()
            made = [v for v in history["versions"] if v["id"] not in self.stored]
            assert len(made) == 1  # one new version, nothing else changed
            assert made[0]["base_version_id"] == self._head(observation_id)
            self.stored[made[0]["id"]] = Stored(
                observation_id,
                made[0]["base_version_id"],
                datetime.fromisoformat(made[0]["saved_at"]),
                "applied",
                None,
            )
            self.flagged.discard(observation_id)
            assert history["head_version_id"] == made[0]["id"] == self._head(observation_id)
            assert history["has_conflict"] is False

        def _live(self) -> list[str]:
            return sorted(set(self.owner) - self.deleted)

        # -- pulls --------------------------------------------------------------------------

        @rule(which=st.integers(0, 3))
        def pull(self, which: int) -> None:
            self._pull(self.devices[which])

        def _pull(self, device: Device) -> None:
            while True:
                page = client.get(
                    f"/api/v1/sync/pull?cursor={device.cursor}&limit={PAGE}",
                    headers=headers[device.user],
                ).get_json()
                for change in page["changes"]:
                    assert not device.seen_seqs or change["seq"] > device.seen_seqs[-1]
                    device.seen_seqs.append(change["seq"])
                    if change["kind"] != "observation":
                        continue
                    observation = change["observation"]
                    device.last_seq_of[observation["id"]] = change["seq"]
                    device.pulled[observation["id"]] = observation
                    pending = {v["observation_id"] for v in device.outbox}
                    if observation["deleted"]:
                        device.shows[observation["id"]] = None
                    elif observation["id"] not in pending:  # unsent edits stay on top
                        device.shows[observation["id"]] = observation["version"]
                assert int(page["cursor"]) >= int(device.cursor)
                device.cursor = page["cursor"]
                if not page["has_more"]:
                    return

        # -- the model's head rule, and the invariants ----------------------------------------

        def _leaves(self, observation_id: str) -> list[str]:
            mine = {v: s for v, s in self.stored.items() if s.observation_id == observation_id}
            bases = {s.base for s in mine.values()}
            return sorted(v for v in mine if v not in bases)

        def _head(self, observation_id: str) -> str:
            return max(
                self._leaves(observation_id),
                key=lambda v: (self.stored[v].saved_at, v),
            )

        @invariant()
        def every_accepted_version_is_stored_once_and_heads_follow_the_rule(self) -> None:
            if not self.owner:
                return
            db.session.rollback()  # see what the requests committed
            rows = db.session.execute(
                select(
                    ObservationVersion.id,
                    ObservationVersion.content_hash,
                    ObservationVersion.outcome,
                    func.count().over(partition_by=ObservationVersion.id),
                ).where(ObservationVersion.observation_id.in_(self.owner))
            ).all()
            assert all(count == 1 for *_, count in rows)
            assert {row[0] for row in rows} == set(self.stored)
            for version_id, digest, outcome, _ in rows:
                modelled = self.stored[version_id]
                assert outcome.value == modelled.outcome
                if modelled.digest is not None:
                    assert digest == modelled.digest
            heads = db.session.execute(
                select(
                    Observation.id,
                    Observation.head_version_id,
                    Observation.has_conflict,
                    Observation.deleted_at,
                    Observation.notes,
                ).where(Observation.id.in_(self.owner))
            ).all()
            payloads = dict(
                db.session.execute(
                    select(ObservationVersion.id, ObservationVersion.payload).where(
                        ObservationVersion.id.in_([h[1] for h in heads])
                    )
                ).all()
            )
            assert {h[0] for h in heads} == set(self.owner)
            for observation_id, head, conflict, deleted_at, notes in heads:
                assert head == self._head(observation_id)
                assert (deleted_at is not None) == (observation_id in self.deleted)
                if observation_id not in self.deleted:
                    assert conflict == (observation_id in self.flagged)
                assert notes == payloads[head]["notes"]  # the row mirrors its head
            db.session.rollback()

        def teardown(self) -> None:
            if not hasattr(self, "devices"):
                return
            for device in self.devices:
                while device.outbox:
                    batch = list(device.outbox)
                    self._heard(device, batch, self._send(device, batch))
            for device in self.devices:
                self._pull(device)
                assert device.seen_seqs == sorted(set(device.seen_seqs))  # nothing repeated
                db.session.rollback()
                mine = [o for o, user in self.owner.items() if user == device.user]
                last = dict(
                    db.session.execute(
                        select(Change.observation_id, func.max(Change.seq))
                        .where(
                            Change.kind == "observation",
                            Change.observation_id.in_(mine),
                            Change.seq > self.start_cursor[device.name],
                        )
                        .group_by(Change.observation_id)
                    ).all()
                )
                db.session.rollback()
                # Nothing skipped: the device's last word on each is the server's last.
                assert {o: device.last_seq_of.get(o) for o in last} == last
                for observation_id in mine:  # so the device has the server's word on each
                    pulled = device.pulled[observation_id]
                    assert pulled["deleted"] == (observation_id in self.deleted)
                    if not pulled["deleted"]:
                        assert pulled["head_version_id"] == self._head(observation_id)
                        assert pulled["version"]["version_id"] == self._head(observation_id)

    run_state_machine_as_test(
        Protocol,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
