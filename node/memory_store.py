"""`PERSISTENCE_MODULE=node.memory_store`: the in-memory event store, with feed bodies."""

from node.recorders import MemoryFactory as Factory

__all__ = ["Factory"]
