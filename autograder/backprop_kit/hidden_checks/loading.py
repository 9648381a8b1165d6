"""The hidden reference (solutions/reference.py), loaded from its file: it is not an installed package."""

import importlib.util
from functools import lru_cache
from pathlib import Path

REFERENCE_PATH = Path(__file__).resolve().parents[3] / "solutions" / "reference.py"


def _load_reference(module_name):
    spec = importlib.util.spec_from_file_location(module_name, REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=1)
def reference():
    """The hidden reference module, loaded from its file (it is not an installed package)."""
    return _load_reference("backprop_reference")


@lru_cache(maxsize=1)
def recording_reference():
    """A second copy of the reference, whose module globals `standins._record` may wrap."""
    return _load_reference("backprop_reference_recorder")
