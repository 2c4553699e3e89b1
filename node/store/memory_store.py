"""`PERSISTENCE_MODULE=node.store.memory_store`: the in-memory event store, with feed bodies."""

from node.store.recorders import MemoryFactory as Factory

__all__ = ["Factory"]
