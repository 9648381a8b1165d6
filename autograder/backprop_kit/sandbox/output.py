"""What the worker printed, as the grader keeps it: the first characters of each cell's output, the rest counted."""

import os
import threading
from dataclasses import dataclass, field


@dataclass
class OutputLog:
    """Keeps the first characters of each cell's output and of the whole run; counts the rest.

    Written by the thread that reads the worker's output and by the main thread
    (output the worker itself dropped), hence the lock.
    """

    per_label: int
    total: int
    label: str = "start"
    kept: dict = field(default_factory=dict)
    kept_total: int = 0
    dropped: dict = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, data):
        with self.lock:
            label = self.label
            have = len(self.kept.get(label, ""))
            room = max(0, min(self.per_label - have, self.total - self.kept_total))
            if not room:  # full: count the bytes without decoding them, so a flood costs little
                self.dropped[label] = self.dropped.get(label, 0) + len(data)
                return
            text = data.decode("utf-8", errors="replace")
            self.kept[label] = self.kept.get(label, "") + text[:room]
            self.kept_total += min(room, len(text))
            if len(text) > room:
                self.dropped[label] = self.dropped.get(label, 0) + len(text) - room

    def note_dropped(self, count):
        """Output the worker dropped itself (see worker._CappedStream)."""
        if count:
            with self.lock:
                self.dropped[self.label] = self.dropped.get(self.label, 0) + count

    @property
    def was_cut(self):
        return bool(self.dropped)


def pump_output(fd, log):
    with os.fdopen(fd, "rb", buffering=0) as stream:
        while True:
            chunk = stream.read(65536)
            if not chunk:
                return
            log.add(chunk)
