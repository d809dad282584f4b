"""Engines that execute compiled scenarios and yield one record per replication."""

from .records import LogEntry, ReplicationRecord
from .reference import ReferenceEngine

__all__ = ["LogEntry", "ReferenceEngine", "ReplicationRecord"]
