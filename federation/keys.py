"""Node keys: the current Ed25519 signing key and the pre-committed next one."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from federation.wire import next_key_digest


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def private_bytes(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte seed; write it only to a file with mode 0600."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


@lru_cache(maxsize=1024)
def load_public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True, repr=False)
class NodeKeys:
    """The key that signs now, and the next key, whose digest the feed has committed to."""

    current: Ed25519PrivateKey
    next: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> NodeKeys:
        return cls(Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate())

    @classmethod
    def from_seeds(cls, current: bytes, next: bytes) -> NodeKeys:
        return cls(
            Ed25519PrivateKey.from_private_bytes(current),
            Ed25519PrivateKey.from_private_bytes(next),
        )

    @cached_property
    def current_public(self) -> bytes:
        # Asked at every signature: worked out once (the keys never change; a rotation
        # makes new NodeKeys).
        return public_bytes(self.current)

    @property
    def next_digest(self) -> bytes:
        return next_key_digest(public_bytes(self.next))

    def rotated(self, new_next: Ed25519PrivateKey | None = None) -> NodeKeys:
        """The keys after a rotation: the next key signs; a fresh key is committed to."""
        return NodeKeys(self.next, new_next or Ed25519PrivateKey.generate())

    def __repr__(self) -> str:  # never show key material
        return f"NodeKeys(current={self.current_public.hex()[:16]}…)"
