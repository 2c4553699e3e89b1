"""atheris (libFuzzer, coverage-guided) against entry decoding and verification.

Run by `make fuzz`, or by hand with libFuzzer's flags, e.g.

    .venv/bin/python fuzz/entries.py -max_total_time=300
    .venv/bin/python fuzz/entries.py -atheris_runs=1000000 /tmp/my-corpus

Without a corpus folder it uses (and fills) one in the system's temporary folder, seeded with
valid encodings of every message the protocol defines. The first input byte picks a target:

0  decode_signed_entry                  4  decode_push, then every entry and body as a peer's
1  decode_entry on the bytes as signed  5  decode_descriptor, then verify_inception
2  check_entry against a known feed     6  node.network.messages.decode_body for every body type
3  decode_page, then verify_page        7  decode_push_reply

Anything but a clean verdict or `federation.verify.Rejected` is a crash, and so is a changed
entry being accepted: every entry that verifies must be one the feed's author signed.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import tempfile
import typing
from pathlib import Path

import msgspec

try:
    import atheris
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit(
        "atheris is not installed in this environment: `make fuzz` installs it with "
        "`pip install -e '.[fuzz]'` (it needs a prebuilt wheel for this Python and platform, or "
        "clang with libFuzzer to build one)"
    )

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports():
    from federation.feed import append, incept, rotate
    from federation.keys import NodeKeys
    from federation.pages import verify_page
    from federation.verify import (
        Accepted,
        Duplicate,
        Gap,
        Rejected,
        check_body,
        check_entry,
        decode_descriptor,
        decode_entry,
        decode_page,
        decode_push,
        decode_push_reply,
        decode_signed_entry,
        verify_inception,
    )
    from federation.wire import (
        PROTOCOL_VERSION,
        FeedPage,
        NodeDescriptor,
        Push,
        PushReply,
        SignedEntry,
        encode,
    )
    from node.network import messages

TYPES = frozenset(messages.BODY_TYPES) | {"network.join_request"}
BODY_TYPES = sorted(messages.BODY_TYPES)


def _authored() -> tuple[list[SignedEntry], dict[int, SignedEntry], list[bytes]]:
    """A feed with an entry of every body type, a rotation, and an addressed entry."""
    keys = NodeKeys.from_seeds(bytes([3]) * 32, bytes([103]) * 32)
    inception, state = incept(keys, 1_700_000_000_000)
    entries, bodies = [inception], []
    for number, entry_type in enumerate(BODY_TYPES):
        if number == 5:
            signed, state, keys = rotate(state, keys, 1_700_000_000_100)
            entries.append(signed)
        body = messages.encode_body(_sample(entry_type))
        audience = [bytes(32)] if number % 3 == 0 else []
        signed, state = append(state, keys, entry_type, body, 1_700_000_000_200, audience)
        entries.append(signed)
        bodies.append(body)
    return entries, {seq: signed for seq, signed in enumerate(entries)}, bodies


def _sample(entry_type: str) -> msgspec.Struct:
    """A record of the type with a plausible value in every field."""
    cls = messages.BODY_TYPES[entry_type]
    values: dict[str, object] = {}
    for name, hint in typing.get_type_hints(cls).items():
        text = str(hint)
        if hint is bool:
            values[name] = True
        elif hint is int:
            values[name] = 1
        elif hint is bytes:
            values[name] = b"\x01" * 8
        elif hint is datetime.date:
            values[name] = datetime.date(2026, 3, 1)
        elif "HatHolder" in text:
            values[name] = [messages.HatHolder("cook", "p1", "Ada", datetime.date(2026, 3, 1))]
        elif "list" in text:
            values[name] = [b"\x02" * 32] if "bytes" in text else ["x"]
        else:
            values[name] = f"{name} text"
    return cls(**values)


ENTRIES, BY_SEQ, BODIES = _authored()
FEED_STATE = verify_inception(ENTRIES[0])
FEED_ID = FEED_STATE.feed_id
AUTHENTIC = set(ENTRIES)
FEED_TAG = ENTRIES[-1].hash.hex()[:12]


def _hash_at(seq: int) -> bytes | None:
    signed = BY_SEQ.get(seq)
    return signed.hash if signed is not None else None


def _target(choice: int, data: bytes) -> None:
    if choice == 0:
        decode_signed_entry(data)
    elif choice == 1:
        decode_entry(SignedEntry(data, bytes(64)))
    elif choice == 2:
        signed = decode_signed_entry(data)
        verdict = check_entry(FEED_STATE, signed, TYPES, _hash_at)
        if isinstance(verdict, Accepted):
            assert signed == ENTRIES[1], "a changed entry was accepted"
        elif isinstance(verdict, Duplicate):
            assert signed.hash == _hash_at(verdict.seq), "a changed entry passed as a duplicate"
        else:
            assert isinstance(verdict, Gap)
    elif choice == 3:
        page = decode_page(data)
        _, taken = verify_page(FEED_STATE, page.entries, TYPES, lambda seq: None)
        for signed in page.entries[len(page.entries) - len(taken) :]:
            assert signed in AUTHENTIC, "a changed entry was accepted in a page"
    elif choice == 4:
        push = decode_push(data)
        state = FEED_STATE
        for signed in push.entries:
            verdict = check_entry(state, signed, TYPES, _hash_at)
            if not isinstance(verdict, Accepted):
                break
            assert signed in AUTHENTIC, "a changed entry was accepted"
            state = verdict.state
            for body in push.bodies:
                try:
                    check_body(verdict.entry, body)
                except Rejected:
                    continue
                assert body in BODIES, "a changed body was accepted"
    elif choice == 5:
        descriptor = decode_descriptor(data)
        state = verify_inception(descriptor.inception, descriptor.feed)
        if state.feed_id == FEED_ID:
            assert descriptor.inception == ENTRIES[0], "a changed inception was accepted"
    elif choice == 6:
        for entry_type in BODY_TYPES:
            record = messages.decode_body(entry_type, data)
            assert record is None or isinstance(record, messages.BODY_TYPES[entry_type])
    else:
        decode_push_reply(data)


def test_one_input(raw: bytes) -> None:
    if not raw:
        return
    with contextlib.suppress(Rejected):
        _target(raw[0] % 8, raw[1:])


def seeds() -> list[bytes]:
    """Valid encodings of every message, each behind the byte that picks its target."""
    descriptor = NodeDescriptor(PROTOCOL_VERSION, FEED_ID, ENTRIES[0], len(ENTRIES), "n", "u")
    return [
        b"\x00" + encode(ENTRIES[1]),
        b"\x01" + ENTRIES[2].entry,
        b"\x02" + encode(ENTRIES[1]),
        b"\x02" + encode(ENTRIES[7]),
        b"\x03" + encode(FeedPage(FEED_ID, ENTRIES[1:], BODIES, len(ENTRIES))),
        b"\x04" + encode(Push(FEED_ID, ENTRIES[1:4], BODIES[:3])),
        b"\x05" + encode(descriptor),
        *(b"\x06" + body for body in BODIES),
        b"\x07" + encode(PushReply(3, 4, "gap")),
    ]


def main() -> None:
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        # Named after the feed the oracle knows: inputs saved against another version of this
        # file may hold entries its key signed differently, which would rightly verify.
        corpus = Path(tempfile.gettempdir()) / "circle-node-fuzz" / f"entries-{FEED_TAG}"
        argv.append(str(corpus))
    else:
        corpus = Path(next(arg for arg in argv[1:] if not arg.startswith("-")))
    corpus.mkdir(parents=True, exist_ok=True)
    for number, seed in enumerate(seeds()):
        path = corpus / f"seed-{number:02d}"
        path.write_bytes(seed)
    for seed in seeds():  # the seeds themselves must pass before fuzzing starts
        test_one_input(seed)
    print(f"fuzzing entry decoding; corpus {corpus} (pid {os.getpid()})", flush=True)
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
