"""Write the hostile submissions of tests/test_robustness.py into this folder.

    .venv/bin/python tests/notebooks/make_notebooks.py [OUT_DIR]

Every notebook that holds a solution takes it from solutions/reference.py at
generation time. The output is deterministic (fixed cell ids, sorted keys, no
random bytes from the system), so tests/test_robustness.py can check that the
committed files are exactly what this script writes today: after changing the
reference or this script, run it again and commit the result.
"""

import ast
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parents[1] / "solutions" / "reference.py"

SETUP = "import otter\ngrader = otter.Notebook('backprop.ipynb')"
CHECK = "grader.check('sigmoid')"
PARTIAL = ("sigmoid_forward", "sigmoid_backward", "tanh_forward", "tanh_backward", "relu_forward", "relu_backward")

# What a hostile cell does after a correct solution.
INFINITE_LOOP = "# a forgotten experiment\nwhile True:\n    pass"
IGNORES_INTERRUPT = """import time

while True:  # swallows every interrupt
    try:
        time.sleep(0.05)
    except KeyboardInterrupt:
        print("not stopping")"""
OS_EXIT = "import os\n\nos._exit(3)"
SEGFAULT = "import ctypes\n\nctypes.string_at(0)  # reads address 0: SIGSEGV"
OUTPUT_FLOOD = "for i in range(1_000_000):\n    print('line', i)"
ESCAPED_PROCESS = """import subprocess

# left running in a session of its own, out of reach of a kill of the worker's process group
subprocess.Popen(["sleep", "3141.59"], start_new_session=True)"""
MEMORY_HOG = "hog = []\nwhile True:\n    hog.append(b'x' * (64 << 20))  # touches the memory, 64 MB at a time"


def solution():
    return REFERENCE.read_text()


def partial_solution(names=PARTIAL):
    """The reference's imports and only the functions in `names`."""
    text = solution()
    tree = ast.parse(text)
    imports = [ast.get_source_segment(text, n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    functions = [ast.get_source_segment(text, n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    return "\n".join(imports) + "\n\n\n" + "\n\n\n".join(functions)


def notebook(cells, kernel="python3", display="Python 3", minor=5):
    """Notebook JSON as Jupyter writes it (sources as lists of lines), with stable cell ids."""
    nb_cells = []
    for i, source in enumerate(cells):
        cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source.splitlines(keepends=True)}
        if minor >= 5:
            cell["id"] = f"cell-{i:03d}"
        nb_cells.append(cell)
    nb = {
        "cells": nb_cells,
        "metadata": {
            "kernelspec": {"display_name": display, "language": "python", "name": kernel},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": minor,
    }
    return (json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()


def solved(*after, **kwargs):
    return notebook([SETUP, solution(), CHECK, *after], **kwargs)


def files():
    """{file name: bytes} of every test submission."""
    return {
        "correct.ipynb": solved(),
        "infinite_loop.ipynb": solved(INFINITE_LOOP),
        "ignores_interrupt.ipynb": solved(IGNORES_INTERRUPT),
        "os_exit.ipynb": solved(OS_EXIT),
        "segfault.ipynb": solved(SEGFAULT),
        "output_flood.ipynb": solved(OUTPUT_FLOOD),
        "memory_hog.ipynb": solved(MEMORY_HOG),
        "escaped_process.ipynb": solved(ESCAPED_PROCESS),
        "foreign_kernelspec.ipynb": solved(kernel="conda-env-ml-py", display="Python [conda env:ml]"),
        "backprop (3).ipynb": solved(),
        "nbformat_4_0.ipynb": solved(minor=0),
        "missing_functions.ipynb": notebook([SETUP, partial_solution(), CHECK]),
        "garbage.ipynb": random.Random(3).randbytes(4096),
        "not_a_notebook.ipynb": b'{"name": "backprop", "items": [1, 2, 3]}\n',
        "empty.ipynb": notebook([]),
        "zero_bytes.ipynb": b"",
    }


def main(argv):
    out = Path(argv[1]) if len(argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (out / name).write_bytes(data)
    print(f"wrote {len(files())} notebooks to {out}")


if __name__ == "__main__":
    main(sys.argv)
