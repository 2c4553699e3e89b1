"""The HTTP Message Signature vectors (tests/vectors/httpsig.json) verify with
federation/httpsig.py over the signature base PROTOCOL.md 9.6 gives, and a one-bit change to
the signature, the body or the request fails."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from federation.httpsig import SignatureError, verify_request
from tests.vectors.signed_requests import content_digest, signature_base

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "httpsig.json").read_text())
REQUESTS = ("read", "push")


def key() -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(VECTORS["public_key"]))


def verify(vector: dict[str, Any], **changed: Any) -> str:
    request = vector | changed
    return verify_request(
        request["method"],
        request["url"],
        request["headers"],
        bytes.fromhex(request["body"]),
        resolve_key=lambda key_id: key() if key_id == vector["keyid"] else None,
        now=vector["created"],
    )


def flip(data: bytes, bit: int) -> bytes:
    changed = bytearray(data)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def signature(vector: dict[str, Any]) -> bytes:
    value = vector["headers"]["Signature"]
    assert value.startswith("node=:") and value.endswith(":")
    return base64.b64decode(value[len("node=:") : -1])


@pytest.mark.parametrize("name", REQUESTS)
def test_each_signed_request_verifies(name: str) -> None:
    vector = VECTORS[name]
    assert verify(vector) == vector["keyid"]


@pytest.mark.parametrize("name", REQUESTS)
def test_the_signature_covers_the_base_the_protocol_gives(name: str) -> None:
    vector = VECTORS[name]
    body = bytes.fromhex(vector["body"])
    base = vector["signature_base"]
    # The base as PROTOCOL.md 9.6 writes it, from the request alone.
    assert base == signature_base(
        vector["method"], vector["url"], body, vector["keyid"], vector["created"]
    )
    params = base.rsplit("\n", 1)[1].removeprefix('"@signature-params": ')
    assert vector["headers"]["Signature-Input"] == f"node={params}"
    key().verify(signature(vector), base.encode())  # raises if it does not verify
    if body:
        assert vector["headers"]["Content-Digest"] == content_digest(body)
        assert '"content-digest": ' + content_digest(body) in base
    else:
        assert "Content-Digest" not in vector["headers"]


@pytest.mark.parametrize("name", REQUESTS)
@pytest.mark.parametrize("bit", [0, 7, 255, 511])
def test_a_bit_flipped_in_the_signature_fails(name: str, bit: int) -> None:
    vector = VECTORS[name]
    spoiled = base64.b64encode(flip(signature(vector), bit)).decode()
    headers = vector["headers"] | {"Signature": f"node=:{spoiled}:"}
    with pytest.raises(SignatureError) as refused:
        verify(vector, headers=headers)
    assert refused.value.reason == "bad_signature"


@pytest.mark.parametrize("name", REQUESTS)
def test_a_bit_flipped_in_the_request_fails(name: str) -> None:
    vector = VECTORS[name]
    url = vector["url"]
    path = url.index("/federation/") + len("/federation/")
    for spoiled in (
        url[:path] + chr(ord(url[path]) ^ 1) + url[path + 1 :],  # the path
        url.replace("node-b", "node-c"),  # the authority ("b" and "c" differ by one bit)
    ):
        with pytest.raises(SignatureError) as refused:
            verify(vector, url=spoiled)
        assert refused.value.reason == "bad_signature"
    with pytest.raises(SignatureError) as refused:
        verify(vector, method="PUT" if vector["method"] == "POST" else "HEAD")
    assert refused.value.reason == "bad_signature"
    created = vector["created"]
    headers = vector["headers"] | {
        "Signature-Input": vector["headers"]["Signature-Input"].replace(
            f"created={created}", f"created={created ^ 1}"
        )
    }
    with pytest.raises(SignatureError) as refused:
        verify(vector, headers=headers)
    assert refused.value.reason == "bad_signature"


def test_a_bit_flipped_in_the_pushed_body_fails() -> None:
    vector = VECTORS["push"]
    body = bytes.fromhex(vector["body"])
    for bit in (0, len(body) * 4, len(body) * 8 - 1):
        with pytest.raises(SignatureError) as refused:
            verify(vector, body=flip(body, bit).hex())
        assert refused.value.reason == "digest_mismatch"
