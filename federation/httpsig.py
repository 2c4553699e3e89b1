"""HTTP Message Signatures (RFC 9421) with Ed25519 keys for requests between nodes.

A node signs each request it sends with :func:`sign_request` and checks each request it
receives with :func:`verify_request`. Both work on plain values (method, full URL, header
mapping, body bytes), so an aiohttp client and a Starlette/FastAPI server can use them alike.
The RFC 9421 and RFC 9530 work (signature base, Structured Fields, Content-Digest) is done by
the ``http-message-signatures`` library; this module chooses the protocol's policy and maps
every failure to a machine-readable reason.

Each signature covers::

    "@method" "@authority" "@path" "@query" ["content-digest"]

with the parameters ``created``, ``keyid``, ``alg="ed25519"`` and ``tag="circle-node"``.
``@authority``, ``@path`` and ``@query`` are used rather than ``@target-uri``: they bind the
same host, path and query, but leave out the scheme, which a server behind a TLS-terminating
proxy cannot see, and the library normalises ``@authority`` (lower-case host, no default
port), where it copies ``@target-uri``'s authority verbatim.

The URL must be the encoded form that goes on the wire: an aiohttp client passes
``str(yarl.URL(url))``; a server rebuilds it from the raw request target (the ASGI
``raw_path`` and ``query_string``), not from the percent-decoded path.

Replay protection within ``max_age`` is not provided here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    MappingKeyResolver,
    algorithms,
)

__all__ = ["SignatureError", "sign_request", "verify_request"]

_TAG: Final = "circle-node"
_LABEL: Final = "node"
_DERIVED_COMPONENTS: Final = ("@method", "@authority", "@path", "@query")
_DIGEST_COMPONENT: Final = "content-digest"
_FUTURE_SKEW: Final = 60
_SIGNATURE_FIELDS: Final = frozenset({"signature-input", "signature"})
_GENERATED_FIELDS: Final = _SIGNATURE_FIELDS | {"content-digest"}
_REASONS: Final = frozenset(
    {"missing", "malformed", "unknown_key", "expired", "bad_signature", "digest_mismatch"}
)


class SignatureError(Exception):
    """The request's signature is missing, malformed, stale, by an unknown key, or does not verify.

    ``reason`` is machine-readable:

    - ``"missing"``: neither Signature-Input nor Signature is present.
    - ``"malformed"``: the signature fields are not a usable ``circle-node`` signature (only one
      of the two fields, unparseable Structured Fields, no ``circle-node`` tag, several of them,
      a missing ``created`` or ``keyid``, another algorithm, components the protocol requires
      left uncovered, or a covered component the request cannot supply).
    - ``"unknown_key"``: the key resolver knows no key by the signature's ``keyid``.
    - ``"expired"``: ``created`` is older than ``max_age`` or more than 60 s in the future, or
      ``expires`` has passed.
    - ``"bad_signature"``: the Ed25519 signature does not verify over the request as received
      (method, authority, path, query or a covered header changed, or another key signed).
    - ``"digest_mismatch"``: the body is not the one signed: a body without a covered
      Content-Digest, or a Content-Digest that is unparseable or differs from the body.
    """

    reason: str

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in _REASONS:
            raise ValueError(f"unknown signature failure reason {reason!r}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class _Rejected(InvalidSignature):
    """Raised from the hooks below; the library passes InvalidSignature subclasses through."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


class _Headers:
    """Ordered, case-insensitive header field lines, in the shape the library reads and writes."""

    def __init__(self, lines: Iterable[tuple[str, str]] = ()) -> None:
        self._lines: list[tuple[str, str]] = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return list(self._lines)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._lines)

    def __setitem__(self, name: str, value: str) -> None:
        del self[name]
        self._lines.append((name, value))

    def __delitem__(self, name: str) -> None:
        self._lines = [(n, v) for n, v in self._lines if n.lower() != name.lower()]

    def get(self, name: str) -> str | None:
        values = [v for n, v in self._lines if n.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class _Request:
    """The request view the library's component resolver reads: method, URL, headers."""

    method: str
    url: str
    headers: _Headers


class _Ed25519(algorithms.ED25519):
    """The library's Ed25519, reporting a failed verification as ``bad_signature``."""

    def verify(self, signature: bytes, message: bytes) -> None:
        try:
            super().verify(signature, message)
        except _CryptoInvalidSignature as exc:
            raise _Rejected("bad_signature", "the Ed25519 signature does not verify") from exc


class _KeyLookup(HTTPSignatureKeyResolver):
    """Adapts the caller's ``resolve_key`` to the library; keeps the caller's own errors."""

    def __init__(self, resolve_key: Callable[[str], Ed25519PublicKey | None]) -> None:
        self._resolve_key = resolve_key
        self.failure: BaseException | None = None

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        try:
            key = self._resolve_key(key_id)
        except Exception as exc:
            # The library would wrap this as an invalid signature; the caller re-raises it.
            self.failure = exc
            raise
        if key is None:
            raise _Rejected("unknown_key", f"no key is known by the id {key_id!r}")
        if not isinstance(key, Ed25519PublicKey):
            self.failure = TypeError(
                f"resolve_key({key_id!r}) returned {type(key).__name__}, not Ed25519PublicKey"
            )
            raise self.failure
        return key

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        raise NotImplementedError("verification only")


class _Verifier(HTTPMessageVerifier):
    """The library's verifier with this protocol's clock: an injectable now and max_age."""

    def __init__(self, *, key_resolver: _KeyLookup, now: int, max_age: int) -> None:
        super().__init__(signature_algorithm=_Ed25519, key_resolver=key_resolver)
        self._now = now
        self._max_age = max_age

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        params = sig_input.params
        created = params.get("created")
        if type(created) is not int:
            raise _Rejected("malformed", 'the signature has no integer "created" parameter')
        if created > self._now + _FUTURE_SKEW:
            raise _Rejected(
                "expired", f"created {created - self._now} s in the future (at most {_FUTURE_SKEW})"
            )
        if self._now - created > self._max_age:
            raise _Rejected(
                "expired", f"created {self._now - created} s ago (at most {self._max_age})"
            )
        expires = params.get("expires")
        if expires is not None:
            if type(expires) is not int:
                raise _Rejected("malformed", 'the "expires" parameter is not an integer')
            if expires < self._now:
                raise _Rejected("expired", f"expired {self._now - expires} s ago")


def _covered(include_digest: bool) -> tuple[str, ...]:
    return (*_DERIVED_COMPONENTS, _DIGEST_COMPONENT) if include_digest else _DERIVED_COMPONENTS


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    key_id: str,
    private_key: Ed25519PrivateKey,
    created: int | None = None,
) -> dict[str, str]:
    """Return the headers to add: Content-Digest (sha-256, RFC 9530) when there is a body,
    Signature-Input and Signature.

    Covered components: ``"@method"``, ``"@authority"``, ``"@path"``, ``"@query"``, and
    ``"content-digest"`` when ``body`` is not empty. Parameters: ``created`` (Unix seconds;
    now when None), ``keyid``, ``alg="ed25519"`` and ``tag="circle-node"``.

    ``url`` must be the absolute, percent-encoded URL the request is sent to. The returned
    headers replace any of the same names in ``headers`` (merge them case-insensitively);
    a Content-Digest already in ``headers`` is ignored and recomputed from ``body``.

    Raises TypeError for a key that is not Ed25519, ValueError for a URL or key id the
    library cannot sign (for example an unencoded or relative URL).
    """
    if not isinstance(private_key, Ed25519PrivateKey):
        raise TypeError(f"private_key must be Ed25519PrivateKey, not {type(private_key).__name__}")
    request = _Request(
        method=method.upper(),
        url=url,
        headers=_Headers((n, v) for n, v in headers.items() if n.lower() not in _GENERATED_FIELDS),
    )
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}),
    )
    created_at = int(time.time()) if created is None else created
    try:
        signer.sign(
            request,
            key_id=key_id,
            created=datetime.fromtimestamp(created_at, UTC),
            label=_LABEL,
            tag=_TAG,
            covered_component_ids=_DERIVED_COMPONENTS,
            # The library adds and covers "content-digest" when it is given the body.
            body=body if body else None,
        )
    except HTTPMessageSignaturesException as exc:
        raise ValueError(f"cannot sign {method} {url}: {exc}") from exc
    added: dict[str, str] = {}
    for name in ("Content-Digest", "Signature-Input", "Signature"):
        value = request.headers.get(name)
        if value is not None:
            added[name] = value
    return added


def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    resolve_key: Callable[[str], Ed25519PublicKey | None],
    max_age: int = 300,
    now: int | None = None,
) -> str:
    """Verify the signature; return the verified key id.

    ``url`` is the absolute, percent-encoded URL as the server received it (scheme aside, the
    signature binds authority, path and query). ``resolve_key`` returns the public key for a
    key id, or None when the id is unknown; an exception it raises propagates unchanged.
    Exactly one signature tagged ``circle-node`` must be present and must cover ``@method``,
    ``@authority``, ``@path`` and ``@query``. When ``body`` is not empty, Content-Digest must be
    covered and match it (a covered Content-Digest is checked even for an empty body).
    Signatures created more than ``max_age`` seconds before ``now`` (Unix seconds; the clock
    when None), or more than 60 s after it, are rejected.

    Raises SignatureError with a precise ``reason`` (see :class:`SignatureError`).
    """
    present = {name.lower() for name in headers}
    if not present & _SIGNATURE_FIELDS:
        raise SignatureError("missing", "the request has no Signature-Input or Signature field")
    absent = sorted(_SIGNATURE_FIELDS - present)
    if absent:
        raise SignatureError("malformed", f"the request has no {absent[0]} field")
    lookup = _KeyLookup(resolve_key)
    verifier = _Verifier(
        key_resolver=lookup, now=int(time.time()) if now is None else now, max_age=max_age
    )
    request = _Request(method=method.upper(), url=url, headers=_Headers(headers.items()))
    try:
        results = verifier.verify(request, max_age=None, expect_tag=_TAG)
    except _Rejected as exc:
        raise SignatureError(exc.reason, str(exc)) from exc
    except HTTPMessageSignaturesException as exc:
        if lookup.failure is not None:
            raise lookup.failure from None
        raise SignatureError("malformed", str(exc)) from exc
    if len(results) != 1:
        raise SignatureError("malformed", f"{len(results)} signatures tagged {_TAG!r}, not one")
    result = results[0]
    covered = set(result.covered_components)
    uncovered = [c for c in _DERIVED_COMPONENTS if f'"{c}"' not in covered]
    if uncovered:
        raise SignatureError("malformed", f"the signature does not cover {', '.join(uncovered)}")
    try:
        digest_checked = ContentDigest.verify_components(result.covered_components, body)
    except HTTPMessageSignaturesException as exc:
        raise SignatureError("digest_mismatch", str(exc)) from exc
    if body and not digest_checked:
        raise SignatureError("digest_mismatch", "the body is not covered by a signed digest")
    key_id = result.parameters["keyid"]
    assert isinstance(key_id, str)  # the library checks that keyid is a String
    return key_id
