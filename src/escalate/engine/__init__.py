"""Engines that execute compiled scenarios: the reference engine, one replication at a time
on simpy, and the batch engine, chunks of replications at once with numpy.

Every engine satisfies :class:`~escalate.engine.protocol.Engine` and gives a
scenario the same meaning; :mod:`~escalate.engine.selection` chooses one for
a run and hands back to the reference engine what another cannot run.
"""

from .batch import BatchEngine
from .protocol import Engine, Overflow, StreamKeys
from .records import ChunkRecords, LogEntry, ReplicationRecord
from .reference import ReferenceEngine
from .selection import choose_engine

__all__ = ["BatchEngine", "ChunkRecords", "Engine", "LogEntry", "Overflow", "ReferenceEngine",
           "ReplicationRecord", "StreamKeys", "choose_engine"]
