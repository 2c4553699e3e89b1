"""A portable archive of a circle's records, and checking one offline.

The archive is one MessagePack document (a map from member name to its bytes) followed by the
SHA-256 of that document (32 bytes), so that no byte of the file can change unnoticed. Members:
- `manifest.json`: the format, the node id, when, what it holds, and the SHA-256 of every other
  member;
- `feed.msgpack`: the circle's own feed from its inception, each signed entry as it was
  signed (a MessagePack array of encoded SignedEntry);
- `bodies/<hash>`: every body the node holds for its own feed, named by its hash;
- `logbook.json`: the circle's logbook (date, time with its offset in the circle's time zone,
  the actor's id where one is named, and sentence of each recorded change);
- `meetings.json`: the circle's meetings: attendance, absences told ahead, agenda, outcomes
  and minutes;
- `linked_records.json`: the hats' back-stops, and what linked circles sent this one (a
  member circle's records and minutes; the records of the co-ops it is part of);
- `plans.json`: the circle's budgets and plans, current and past, as they stand;
- `appeals.json`: the circle's appeals (against its decisions, taken to it, made from it): the
  appellants, the grounds and each hearing's answer;
- `member_aims.json`: each member's aims and development goals, as they set them out (those
  of people still in the circle: personal, erased with their personal data).

The archive is the circle's own copy, made by the node's operator: it holds the whole record,
confidential agenda items and their minutes included, each marked `"confidential": true`
(logbook lines, agenda items, `confidential_minutes`), which only full and learning
participants read. Whoever hands the archive on decides what of it to share.

`verify_archive` needs nothing but the file: it checks the manifest's digests, the feed's
hash chain and signatures (the inception proves the node id; key rotations are followed), and
each body against the entry that binds it, and names the first thing that does not verify.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from cryptography.exceptions import InvalidSignature

from domain.appeal import Appeal
from domain.meeting import Meeting
from federation.feed import FeedState, node_id
from federation.keys import load_public_key
from federation.pages import verify_page
from federation.verify import Rejected, decode_entry, decode_signed_entry, verify_inception
from federation.wire import (
    ENTRY_SIGNING_CONTEXT,
    MAX_PAGE_ENTRIES,
    ROTATION,
    Entry,
    SignedEntry,
    body_hash,
)
from node.app.logbook import read_logbook
from node.app.node import CircleNode
from node.app.plans import plans_for_export

FORMAT = "circle-node-archive/1"
Progress = Callable[[str, int, int], None]  # (what, done, total)


class ArchiveError(Exception):
    """The archive does not verify; the message names the first thing that does not."""


def _quiet(what: str, done: int, total: int) -> None:
    return None


def export_archive(node: CircleNode, path: Path, progress: Progress = _quiet) -> dict[str, Any]:
    """Write the archive of the node's own feed, bodies and logbook to `path`."""
    raw_entries: list[bytes] = []
    after, head = -1, node.feed.own_feed().head
    while True:
        page = node.store.feeds.select_entries(node.feed.feed_id, after, MAX_PAGE_ENTRIES)
        if not page:
            break
        raw_entries.extend(page)
        after += len(page)
        progress("feed", min(after + 1, head + 1), head + 1)
    members: dict[str, bytes] = {"feed.msgpack": msgspec.msgpack.encode(raw_entries)}
    digests = [
        entry.body_hash
        for entry in (decode_entry(decode_signed_entry(raw)) for raw in raw_entries)
        if entry.body_hash
    ]
    stored = node.store.stored_bodies(digests)
    for number, digest in enumerate(digests, start=1):
        if digest in stored:
            members[f"bodies/{digest.hex()}"] = stored[digest][0]
        progress("bodies", number, len(digests))
    logbook = [
        {
            "date": e.when.isoformat(),
            "at": e.at.isoformat(),
            "actor": e.actor,
            "text": e.text,
            **({"confidential": True} if e.confidential else {}),
        }
        for e in read_logbook(node)
    ]
    members["logbook.json"] = json.dumps(logbook, indent=1, ensure_ascii=False).encode()
    meetings = (
        [_meeting(m) for m in node.records.list_meetings()] if node.records.is_founded else []
    )
    members["meetings.json"] = json.dumps(meetings, indent=1, ensure_ascii=False).encode()
    members["linked_records.json"] = json.dumps(
        linked_records(node), indent=1, ensure_ascii=False, default=str
    ).encode()
    plans = plans_for_export(node.records) if node.records.is_founded else []
    members["plans.json"] = json.dumps(plans, indent=1, ensure_ascii=False).encode()
    appeals = [_appeal(a) for a in node.appeals.appeals()] if node.records.is_founded else []
    members["appeals.json"] = json.dumps(appeals, indent=1, ensure_ascii=False).encode()
    members["member_aims.json"] = json.dumps(
        _member_aims(node), indent=1, ensure_ascii=False
    ).encode()
    manifest = {
        "format": FORMAT,
        "node_id": node.feed.node_id,
        "circle": node.records.get_circle().name if node.records.is_founded else "",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "entries": len(raw_entries),
        "bodies": sum(name.startswith("bodies/") for name in members),
        "withheld_or_erased_bodies": len(digests) - len(stored),
        "sha256": {name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
    }
    document = msgspec.msgpack.encode(
        {"manifest.json": json.dumps(manifest, indent=1).encode(), **members}
    )
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(document + hashlib.sha256(document).digest())
    tmp.replace(path)
    return manifest


def _meeting(meeting: Meeting) -> dict[str, Any]:
    """A meeting's record, whole: confidential items and minutes marked so."""
    return {
        "id": str(meeting.id),
        "title": meeting.title,
        "when": meeting.when.isoformat(),
        "stage": str(meeting.stage),
        "present": meeting.present,
        "absent": meeting.absent,
        "absences_told": [vars(notice) for notice in meeting.absences],
        "agenda": [
            {"number": number, **vars(item)} for number, item in enumerate(meeting.agenda, 1)
        ],
        "minutes": meeting.minutes,
        "confidential_minutes": meeting.confidential_minutes,
    }


def linked_records(node: CircleNode) -> dict[str, Any]:
    """The hats' back-stops, and each linked circle's records and minutes, as the API shows
    them (names put back)."""
    if not node.records.is_founded:
        return {"back_stops": {}, "linked_circles": []}
    circle = node.records.peek_circle()
    stops = node.hats.back_stops()
    back_stops = {}
    for hat_id in circle.hats:
        person = stops.back_stop(circle, hat_id) if stops is not None else None
        if person is not None:
            back_stops[hat_id] = {"person_id": person, "name": node.records.person_name(person)}
    linked = []
    for other in node.linked.linked_circles():
        minutes, _ = node.linked.minutes(other.circle, 0, max(other.minutes, 1))
        linked.append(
            {
                **vars(other),
                "minutes": [
                    {
                        "meeting": m.meeting,
                        "title": m.title,
                        "held_on": m.held_on,
                        "items": m.items,
                        "minutes": m.minutes,
                    }
                    for m in minutes
                ],
            }
        )
    return {"back_stops": back_stops, "linked_circles": linked}


def _appeal(appeal: Appeal) -> dict[str, Any]:
    """An appeal's record, whole."""
    return {
        "id": str(appeal.id),
        "role": str(appeal.role),
        "status": str(appeal.status),
        "hearing": str(appeal.hearing),
        "decision_id": appeal.decision_id,
        "title": appeal.title,
        "text": appeal.text,
        "grounds": appeal.grounds,
        "appellants": dict(appeal.appellants),
        "appellant_count": appeal.appellant_count,
        "origin": appeal.origin,
        "referred_to": appeal.referred_to,
        "delegates": list(appeal.delegates),
        "answers": [vars(answer) for answer in appeal.answers],
        "proposal_id": appeal.proposal_id,
    }


def _member_aims(node: CircleNode) -> list[dict[str, Any]]:
    if not node.records.is_founded:
        return []
    return [
        {
            "person_id": shown.person_id,
            "name": node.records.person_name(shown.person_id),
            "aims": shown.aims,
            "development_goals": shown.development_goals,
            "updated_on": shown.updated_on.isoformat() if shown.updated_on else None,
        }
        for shown in node.aims.kept_aims()
    ]


@dataclass(frozen=True)
class Verified:
    node_id: str
    circle: str
    entries: int
    bodies: int
    logbook_lines: int


def verify_archive(path: Path, known_types: Iterable[str], progress: Progress = _quiet) -> Verified:
    """Check an archive offline; raises ArchiveError naming the first thing that fails."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ArchiveError(f"{path} cannot be read: {error}") from None
    document, trailer = raw[:-32], raw[-32:]
    members = _read_members(document)
    result = _verify_members(members, known_types, progress)
    if hashlib.sha256(document).digest() != trailer:
        raise ArchiveError(
            "the archive's checksum does not match: a byte outside the records was changed"
        )
    return result


def _verify_members(
    members: dict[str, bytes], known_types: Iterable[str], progress: Progress
) -> Verified:
    try:
        manifest = json.loads(members.pop("manifest.json"))
    except KeyError:
        raise ArchiveError("the archive has no manifest.json") from None
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
        raise ArchiveError(f"manifest.json is damaged: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"manifest.json does not describe a {FORMAT} archive")
    digests = manifest.get("sha256")
    if not isinstance(digests, dict) or set(digests) != set(members):
        raise ArchiveError("manifest.json does not list exactly the archive's files")
    for name, data in sorted(members.items()):
        if hashlib.sha256(data).hexdigest() != digests[name]:
            raise ArchiveError(f"{name} does not match its digest in manifest.json")
    if "feed.msgpack" not in members:
        raise ArchiveError("the archive has no feed.msgpack")
    signed = _feed(members["feed.msgpack"])
    if not signed:
        raise ArchiveError("feed.msgpack holds no entries")
    state, entries = verify_feed(signed, known_types, progress)
    if node_id(state.feed_id) != manifest.get("node_id"):
        raise ArchiveError("the feed's inception names another node than manifest.json")
    bound = {e.body_hash: e for e in entries if e.body_hash}
    bodies = {name: data for name, data in members.items() if name.startswith("bodies/")}
    for number, (name, data) in enumerate(sorted(bodies.items()), start=1):
        try:
            digest = bytes.fromhex(name.removeprefix("bodies/"))
        except ValueError:
            raise ArchiveError(f"{name} is not named by the hash of a body") from None
        entry = bound.get(digest)
        if entry is None:
            raise ArchiveError(f"{name} is bound by no entry of the feed")
        if body_hash(data) != digest or len(data) != entry.body_size:
            raise ArchiveError(f"{name} is not the body entry {entry.seq} binds")
        progress("bodies", number, len(bodies))
    try:
        logbook = json.loads(members["logbook.json"])
    except (KeyError, ValueError, RecursionError) as error:
        raise ArchiveError(f"logbook.json is missing or damaged: {error}") from None
    if "meetings.json" in members:  # archives made before it hold no meetings.json
        try:
            json.loads(members["meetings.json"])
        except (ValueError, RecursionError) as error:
            raise ArchiveError(f"meetings.json is damaged: {error}") from None
    if "appeals.json" in members:  # archives made before it hold no appeals.json
        try:
            json.loads(members["appeals.json"])
        except (ValueError, RecursionError) as error:
            raise ArchiveError(f"appeals.json is damaged: {error}") from None
    return Verified(
        str(manifest["node_id"]),
        str(manifest.get("circle", "")),
        len(signed),
        len(bodies),
        len(logbook),
    )


def verify_feed(
    signed: list[SignedEntry], known_types: Iterable[str], progress: Progress = _quiet
) -> tuple[FeedState, list[Entry]]:
    """Check a whole feed from its inception: the inception proves the feed id, then the hash
    chain and every entry's signature (key rotations are followed). Returns the feed's state
    after its last entry and the entries; ArchiveError names the first that does not verify."""
    try:
        state = verify_inception(signed[0])
    except Rejected as rejected:
        raise ArchiveError(f"the feed's inception entry does not verify: {rejected}") from None
    entries = [decode_entry(signed[0])]
    key = state.key
    types = set(known_types)
    for start in range(1, len(signed), MAX_PAGE_ENTRIES):
        run = signed[start : start + MAX_PAGE_ENTRIES]
        try:
            state, new = verify_page(state, run, types, lambda seq: None)
        except Rejected as rejected:
            where = f"entry {rejected.seq}" if rejected.seq is not None else "an entry"
            raise ArchiveError(f"the feed does not verify at {where}: {rejected}") from None
        key = _check_each_signature(key, run, new)
        entries.extend(new)
        progress("feed", start + len(run), len(signed))
    return state, entries


def _check_each_signature(key: bytes, run: list[SignedEntry], entries: list[Entry]) -> bytes:
    """Offline there is time to check every entry's own signature too (the chain and the last
    signature already prove the run): a signature that fails is named. Returns the key in
    force after the run (rotations are followed)."""
    for signed, entry in zip(run, entries, strict=True):
        if entry.type == ROTATION and entry.keys is not None:
            key = entry.keys.current
        try:
            load_public_key(key).verify(signed.signature, ENTRY_SIGNING_CONTEXT + signed.entry)
        except InvalidSignature:
            raise ArchiveError(f"the signature of entry {entry.seq} does not verify") from None
    return key


def _read_members(document: bytes) -> dict[str, bytes]:
    try:
        members = msgspec.msgpack.decode(document, type=dict[str, bytes])
    except (msgspec.DecodeError, ValueError) as error:
        raise ArchiveError(f"the archive is damaged: {error}") from None
    return members


def _feed(raw: bytes) -> list[SignedEntry]:
    try:
        items = msgspec.msgpack.decode(raw, type=list[bytes])
    except (msgspec.DecodeError, ValueError) as error:
        raise ArchiveError(f"feed.msgpack is damaged: {error}") from None
    signed = []
    for number, item in enumerate(items):
        try:
            signed.append(decode_signed_entry(item))
        except Rejected as rejected:
            raise ArchiveError(f"entry {number} of feed.msgpack: {rejected}") from None
    return signed
