"""Engines that execute compiled scenarios: the reference engine, one replication at a time
on simpy, and the batch engine, chunks of replications at once with numpy.

Both give a scenario the same meaning; :func:`choose_engine` picks one for a run.
"""

from .batch import BatchEngine
from .records import ChunkRecords, LogEntry, ReplicationRecord
from .reference import ReferenceEngine
from .selection import choose_engine

__all__ = ["BatchEngine", "ChunkRecords", "LogEntry", "ReferenceEngine", "ReplicationRecord",
           "choose_engine"]
