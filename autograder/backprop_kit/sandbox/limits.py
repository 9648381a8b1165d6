"""The limits one submission runs under (time, memory, output), and the memory the machine can give it."""

import json
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from backprop_lab import config


@dataclass(frozen=True)
class Limits:
    """Time, memory and output limits for one submission (defaults from config)."""

    cell_timeout: float = config.CELL_TIMEOUT_S
    call_timeout: float = config.CALL_TIMEOUT_S
    budget: float = config.SUBMISSION_BUDGET_S
    checks_reserve: float = config.CHECKS_RESERVE_S
    interrupt_grace: float = config.INTERRUPT_GRACE_S
    max_restarts: int = config.MAX_RESTARTS
    max_check_restarts: int = config.MAX_CHECK_RESTARTS
    memory_mb: int = config.MEMORY_LIMIT_MB  # the most; less where the machine has less (see memory_limit_mb)
    file_size_mb: int = config.FILE_SIZE_LIMIT_MB
    disk_mb: int = config.SANDBOX_DISK_MB
    max_processes: int = config.MAX_PROCESSES
    output_per_cell: int = config.OUTPUT_CAP_PER_CELL
    output_total: int = config.OUTPUT_CAP_TOTAL
    max_message_mb: int = config.MAX_MESSAGE_MB
    isolation: str = config.ISOLATION
    time_factor: float = config.TIME_FACTOR  # see scaled(); 0 keeps the time limits as they are

    @classmethod
    def from_env(cls, environ=os.environ):
        """Defaults, overridden by JSON in BACKPROP_KIT_LIMITS (e.g. '{"cell_timeout": 5}')."""
        raw = environ.get("BACKPROP_KIT_LIMITS")
        return cls.from_json(raw) if raw else cls()

    @classmethod
    def from_json(cls, raw):
        """Defaults overridden by a JSON object; ValueError names what is wrong and what is allowed."""
        try:
            overrides = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc}); give an object, e.g. '{{\"cell_timeout\": 10}}'") from None
        if not isinstance(overrides, dict):
            raise ValueError(f"must be a JSON object such as '{{\"cell_timeout\": 10}}', not {raw!r}")
        types = {f.name: type(f.default) for f in fields(cls)}
        unknown = sorted(set(overrides) - set(types))
        if unknown:
            raise ValueError(f"unknown limit(s) {', '.join(unknown)}; known: {', '.join(sorted(types))}")
        for name, value in overrides.items():
            kind = types[name]
            numeric = kind in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) != float("inf")
            if kind is str and not isinstance(value, str) or kind in (int, float) and not numeric or kind is int and value != int(value):
                raise ValueError(f"{name} must be {'a whole number' if kind is int else 'a number' if kind is float else 'a string'}, not {value!r}")
            if numeric and not (value > 0 or name in ZERO_MEANS and value == 0):
                raise ValueError(f"{name} must be {'zero or more' if name in ZERO_MEANS else 'more than zero'}, not {value!r}")
            if numeric and value > LARGEST_LIMIT:
                raise ValueError(f"{name} must be at most {LARGEST_LIMIT:g}, not {value!r}")
            if kind is int:
                overrides[name] = int(value)
        if {"cell_timeout", "call_timeout"} & set(overrides):
            overrides.setdefault("time_factor", 0.0)  # time limits given explicitly are taken as given
        limits = replace(cls(), **overrides)
        if limits.isolation not in ISOLATION_LEVELS:
            raise ValueError(f"isolation must be one of {', '.join(ISOLATION_LEVELS)}, not {limits.isolation!r}")
        if limits.checks_reserve >= limits.budget:
            raise ValueError(f"checks_reserve ({limits.checks_reserve:g} s) must be less than budget ({limits.budget:g} s)")
        return limits

    def scaled(self, reference_s):
        """These limits on a machine where the reference took `reference_s` on config.CALIBRATION:
        call and cell limits grow with the machine's slowness, never below their floors."""
        if not self.time_factor:
            return self
        return replace(
            self,
            call_timeout=round(max(self.call_timeout, self.time_factor * reference_s), 1),
            cell_timeout=round(max(self.cell_timeout, self.time_factor * reference_s), 1),
        )


ISOLATION_LEVELS = ("namespace", "user", "none")
LARGEST_LIMIT = 1e7  # seconds (115 days), megabytes (10 TB), counts: anything larger is a typo
ZERO_MEANS = {"time_factor": "fixed time limits", "max_restarts": "no restart", "max_check_restarts": "no restart"}


def memory_limit_mb(most=config.MEMORY_LIMIT_MB, available=None):
    """The address-space limit for student code: `most`, or what the machine or container can give
    once the grader's reserve and the sandbox's memory-backed file systems are set aside."""
    available = machine_memory_mb() if available is None else available
    spare = available - config.GRADER_RESERVE_MB - sandbox_fs_mb()
    return int(max(128, min(most, spare)))


def sandbox_fs_mb():
    """Memory the sandbox's own file systems may hold: the work folder, /tmp and 16 MB of /dev/shm."""
    return config.SANDBOX_DISK_MB + config.SANDBOX_TMP_MB + 16


def machine_memory_mb():
    """The memory this process may use: the machine's, or its cgroup's limit if lower (v1 or v2)."""
    found = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                found.append(int(line.split()[1]) >> 10)
    except (OSError, ValueError, IndexError):
        pass
    for line in _read_lines("/proc/self/cgroup"):
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if "memory" in parts[1].split(","):  # v1: the smallest limit of the cgroup and its ancestors
            for base in (f"/sys/fs/cgroup/memory{parts[2]}", "/sys/fs/cgroup/memory"):
                for stat in _read_lines(f"{base.rstrip('/')}/memory.stat"):
                    if stat.startswith("hierarchical_memory_limit "):
                        found.append(int(stat.split()[1]) >> 20)
                        break
                else:
                    continue
                break
        elif parts[1] == "":  # v2: memory.max of the cgroup and each ancestor
            path = Path("/sys/fs/cgroup" + parts[2])
            for folder in (path, *path.parents):
                if not str(folder).startswith("/sys/fs/cgroup"):
                    break
                for value in _read_lines(folder / "memory.max"):
                    if value.strip().isdigit():
                        found.append(int(value) >> 20)
    return min(found) if found else config.MEMORY_LIMIT_MB


def _read_lines(path):
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []
