"""Export and offline verification of a circle's archive; backup and restore of a node."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from node.app.archive import ArchiveError, export_archive, verify_archive
from node.app.logbook import read_logbook
from node.app.node import KNOWN_TYPES
from node.app.persistence import open_node, rotate_node_key
from node.cli.backup import BackupError, backup
from node.cli.restore import restore
from node.demo.story import run_story
from node.settings import Settings
from tests.conftest import Clock


@pytest.fixture
def told(tmp_path: Path, clock: Clock) -> Settings:
    """A node whose circle has told its story, with a key rotation in the middle of it."""
    settings = Settings(data_dir=tmp_path / "node")
    node = open_node(settings, clock)
    run_story(node, lambda line: None, lambda days: clock.advance(days=days))
    rotate_node_key(node, settings)
    node.decisions.take_everyday_decision(
        next(
            p
            for p in node.records.get_circle().participants
            if node.records.get_circle().wears(p, "facilitator")
        ),
        "facilitator",
        "meetings",
        "Meet on Tuesdays",
        "From next month",
    )
    node.close()
    return settings


def test_an_export_verifies_offline(told: Settings, tmp_path: Path) -> None:
    node = open_node(told)
    archive = tmp_path / "kitchen.archive"
    manifest = export_archive(node, archive)
    node.close()
    result = verify_archive(archive, KNOWN_TYPES)
    assert result.entries == manifest["entries"] > 5
    assert result.bodies == manifest["bodies"] > 0
    assert result.logbook_lines > 50


def test_an_export_carries_the_circles_aim_trials_and_member_aims(
    told: Settings, tmp_path: Path
) -> None:
    import json

    import msgspec

    # The story's circle formed its aim together, held a trial and Eli set out her aims.
    node = open_node(told)
    archive = tmp_path / "kitchen.archive"
    manifest = export_archive(node, archive)
    eli = next(
        p
        for p in node.records.get_circle().participants
        if node.records.person_name(p) == "Eli Brown"
    )
    node.close()

    # The archive's logbook tells them; its member_aims.json holds each member's own.
    members = msgspec.msgpack.decode(archive.read_bytes()[:-32], type=dict[str, bytes])
    assert "member_aims.json" in manifest["sha256"]
    logbook = [line["text"] for line in json.loads(members["logbook.json"])]
    assert any(
        line.startswith("The circle formed its aim together, by consent:") for line in logbook
    )
    assert "Dev Patel began a trial of 2 sessions" in logbook
    assert "Dev Patel held session 2 of their trial" in logbook
    assert "Eli Brown set out their aims and development goals" in logbook
    (aims,) = json.loads(members["member_aims.json"])
    assert aims == {
        "person_id": eli,
        "name": "Eli Brown",
        "aims": ["Visit the people on the Hebden Bridge round each week"],
        "development_goals": ["Learn to plan a rota", "Become a full participant within the year"],
        "updated_on": aims["updated_on"],
    }
    assert verify_archive(archive, KNOWN_TYPES).logbook_lines == len(logbook)


def test_any_single_byte_flipped_fails_and_is_named(told: Settings, tmp_path: Path) -> None:
    node = open_node(told)
    archive = tmp_path / "kitchen.archive"
    export_archive(node, archive)
    node.close()
    original = archive.read_bytes()
    positions = list(range(len(original)))
    random.Random(7).shuffle(positions)
    named: set[str] = set()
    # Every byte of the small parts (framing, manifest, feed, trailer) and a sample of the rest.
    # Each damaged byte is written over in place, then put back (as in the test of every byte).
    with archive.open("r+b", buffering=0) as file:
        for position in sorted(
            set(positions[:400])
            | set(range(0, 600))
            | set(range(len(original) - 64, len(original)))
        ):
            os.pwrite(file.fileno(), bytes([original[position] ^ 0x5A]), position)
            with pytest.raises(ArchiveError) as failed:
                verify_archive(archive, KNOWN_TYPES)
            named.add(str(failed.value).split(":")[0])
            os.pwrite(file.fileno(), original[position : position + 1], position)
    assert archive.read_bytes() == original
    # The failures name what broke, not just "damaged".
    assert any("does not match its digest" in reason for reason in named)
    assert any("checksum" in reason for reason in named)


def test_a_re_signed_forgery_with_matching_digests_still_fails(
    told: Settings, tmp_path: Path
) -> None:
    # Someone rewrites a body and fixes every digest and the checksum: the entry binding the
    # body by hash (under the feed's signatures) still catches it.
    import hashlib
    import json

    import msgspec

    node = open_node(told)
    archive = tmp_path / "kitchen.archive"
    export_archive(node, archive)
    node.close()
    raw = archive.read_bytes()
    members = msgspec.msgpack.decode(raw[:-32], type=dict[str, bytes])
    body_name = next(name for name in members if name.startswith("bodies/"))
    members[body_name] = members[body_name].replace(b"a", b"o", 1)
    manifest = json.loads(members["manifest.json"])
    manifest["sha256"][body_name] = hashlib.sha256(members[body_name]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    document = msgspec.msgpack.encode(members)
    archive.write_bytes(document + hashlib.sha256(document).digest())
    with pytest.raises(ArchiveError, match=f"{body_name} is not the body entry"):
        verify_archive(archive, KNOWN_TYPES)


def test_backup_and_restore_round_trip(told: Settings, tmp_path: Path, clock: Clock) -> None:
    node = open_node(told, clock)
    before = (
        [e.text for e in read_logbook(node)],
        node.feed.own_feed().head,
        node.feed.node_id,
    )
    node.close()
    saved = tmp_path / "node.cli.backup"
    names = backup(told, saved)
    assert set(names) == {"circle.sqlite", "node.keys", "take-back.pending"}
    restored = Settings(data_dir=tmp_path / "restored")
    restore(saved, restored.data_dir)
    assert os.stat(restored.data_dir / "node.keys").st_mode & 0o777 == 0o600
    # The restored store holds personal data: its owner's alone, before the node opens it.
    assert os.stat(restored.data_dir / "circle.sqlite").st_mode & 0o777 == 0o600
    again = open_node(restored, clock)
    assert (
        [e.text for e in read_logbook(again)],
        again.feed.own_feed().head,
        again.feed.node_id,
    ) == before
    again.close()
    # Restoring over a node is refused; so is a file that is not a backup.
    with pytest.raises(BackupError, match="already holds a node"):
        restore(saved, restored.data_dir)
    (tmp_path / "junk").write_bytes(b"not a backup")
    with pytest.raises(BackupError, match="not a circle-node backup"):
        restore(tmp_path / "junk", tmp_path / "elsewhere")


def test_the_cli_exports_verifies_and_names_damage(told: Settings, tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "node", *args], capture_output=True, text=True, timeout=120
        )

    archive = tmp_path / "a.archive"
    result = run("export", str(archive), "--data", str(told.data_dir))
    assert result.returncode == 0, result.stderr
    result = run("verify", str(archive))
    assert result.returncode == 0 and "verifies" in result.stdout
    raw = bytearray(archive.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    archive.write_bytes(bytes(raw))
    result = run("verify", str(archive))
    assert result.returncode == 1 and "does not verify" in result.stderr
    assert "Traceback" not in result.stderr
    result = run("verify", str(tmp_path / "missing.archive"))
    assert result.returncode == 1 and "cannot be read" in result.stderr


def test_every_single_byte_flipped_fails_and_names_what_broke(
    told: Settings, tmp_path: Path
) -> None:
    # Every byte of the archive, flipped two ways (one bit, all bits): each damaged archive
    # fails, and the failure names the member the byte was in (or the checksum, for the
    # trailer and the manifest's unchecked fields; or the framing, for MessagePack's own bytes).
    import msgspec

    node = open_node(told)
    archive = tmp_path / "kitchen.archive"
    export_archive(node, archive)
    node.close()
    original = archive.read_bytes()
    document = original[:-32]
    members = msgspec.msgpack.decode(document, type=dict[str, bytes])
    where: dict[int, str] = {}
    cursor = 0
    for name, data in members.items():
        # Members are read in the order they are written, each after its name: two members
        # may hold the same bytes (two empty lists), so each is looked for after the last.
        start = document.index(data, document.index(name.encode(), cursor) + len(name))
        where.update(dict.fromkeys(range(start, start + len(data)), name))
        cursor = start + len(data)
    where.update(dict.fromkeys(range(len(document), len(original)), "trailer"))
    failures = 0
    # Each damaged archive is the file with one byte written over in place, then put back:
    # rewriting the whole file each time costs a truncation and a flush of the file system.
    with archive.open("r+b", buffering=0) as file:
        for position in range(len(original)):
            part = where.get(position, "framing")
            for pattern in (0x01, 0xFF):
                os.pwrite(file.fileno(), bytes([original[position] ^ pattern]), position)
                with pytest.raises(ArchiveError) as failed:
                    verify_archive(archive, KNOWN_TYPES)
                failures += 1
                message = str(failed.value)
                if part == "trailer":
                    assert "checksum" in message, (position, message)
                elif part == "manifest.json":
                    assert "manifest.json" in message or "checksum" in message, (
                        position,
                        message,
                    )
                elif part != "framing":
                    assert part in message, (position, part, message)
                else:
                    assert message, position
            os.pwrite(file.fileno(), original[position : position + 1], position)
    assert archive.read_bytes() == original
    assert failures == 2 * len(original) > 10_000
