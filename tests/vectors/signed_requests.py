"""Requests signed with HTTP Message Signatures as PROTOCOL.md 9.6 profiles them, for the vectors.

The headers come from the code (`federation.httpsig.sign_request`); the signature base is
written here from the profile (RFC 9421 §2.5), so that the tests check the two against each
other: the signature must verify over this base.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from federation.httpsig import sign_request

LABEL = "node"
TAG = "circle-node"


def content_digest(body: bytes) -> str:
    """RFC 9530's Content-Digest field value for `body`, with SHA-256."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def signature_base(method: str, url: str, body: bytes, key_id: str, created: int) -> str:
    """The signature base of a request signed by the profile: its lines joined by `\\n`."""
    parts = urlsplit(url)
    authority = parts.hostname or ""
    if parts.port is not None and parts.port != {"http": 80, "https": 443}[parts.scheme]:
        authority += f":{parts.port}"
    lines = {
        "@method": method,
        "@authority": authority,
        "@path": parts.path or "/",
        "@query": f"?{parts.query}",
    }
    if body:
        lines["content-digest"] = content_digest(body)
    covered = " ".join(f'"{name}"' for name in lines)
    params = f'({covered});created={created};keyid="{key_id}";alg="ed25519";tag="{TAG}"'
    return "\n".join(
        [*(f'"{name}": {value}' for name, value in lines.items()), f'"@signature-params": {params}']
    )


def signed_request(
    method: str, url: str, body: bytes, key: Ed25519PrivateKey, key_id: str, created: int
) -> dict[str, Any]:
    """A request as the code signs it, with the base the signature covers."""
    headers = sign_request(method, url, {}, body, key_id=key_id, private_key=key, created=created)
    return {
        "method": method,
        "url": url,
        "body": body.hex(),
        "created": created,
        "keyid": key_id,
        "signature_base": signature_base(method, url, body, key_id, created),
        "headers": headers,
    }
