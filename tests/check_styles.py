"""Plays every notebook of tests/styles.py against solutions/reference.py, function by function.

    PYTHONPATH=autograder .venv/bin/python tests/check_styles.py [--seeds 20] [--tol 1e-9] [STYLE ...]

For each seed, every one of the 14 contract functions is called on fresh random inputs (random
shapes, N = 1 and N > 1, activations with exact zeros and |z| up to 1000, 1- to 4-layer nets mixing
sigmoid/tanh/relu/identity, nets with pre-activations exactly 0 in ReLU layers, train full-batch and
mini-batch with both losses) in the style's namespace and in the reference, each on its own copy of
the inputs. A case passes when

  - the outputs have the reference's structure (tuple lengths, dict keys, float64 arrays of the
    same shape, Python/numpy floats for losses and history entries),
  - every array and float is within --tol in the grader's norm-wise relative error,
    ||a - e|| / max(||a|| + ||e||, config.REL_ERROR_FLOOR),
  - no input was mutated (arrays, dicts, lists, the caches handed to backward and the objects
    they hold),
  - no floating-point overflow, division by zero or invalid operation happened (np.errstate raise).

forward is judged on A_out (the caches are the student's own format); backward gets the caches of
the style's own forward; train on the returned params and the whole history.

Correct entries must pass every case. Each buggy entry (styles.BUGGY) must
  (1) differ in source from its correct style in exactly one top-level definition, the planted one;
  (2) among the 11 building blocks and forward, differ from the reference only in the function it
      names; backward and train may differ too, but exactly on the cases where the reference itself,
      given the buggy function, calls it on inputs where the bug shows (a sigmoid layer that gets a
      nonzero gradient; a batch of more than one example for db);
  (3) behave, in all 14 functions and every case, exactly like the reference with just that one
      function replaced by the entry's: the bug is that function and nothing else.

Exit status 0 when everything holds.
"""

import argparse
import ast
import contextlib
import importlib.util
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "autograder"), str(REPO / "assignment")]
sys.path.insert(0, str(REPO / "tests"))

from backprop_lab import config  # noqa: E402
from backprop_lab.helpers import init_params  # noqa: E402
from styles import BUGGY, CONTRACT, IMPORTS, STYLES  # noqa: E402

REFERENCE_PATH = REPO / "solutions" / "reference.py"
NAMES = ("sigmoid", "tanh", "relu", "identity")
BUILDING_BLOCKS = CONTRACT[:10] + ("sgd_update",)
ARITY = {
    "sigmoid_forward": 1, "sigmoid_backward": 2, "tanh_forward": 1, "tanh_backward": 2,
    "relu_forward": 1, "relu_backward": 2, "dense_forward": 3, "dense_backward": 3,
    "mse_loss": 2, "softmax_cross_entropy": 2, "forward": 3, "backward": 4, "sgd_update": 3, "train": 9,
}


# ------------------------------------------------------------------ namespaces


def load_reference():
    spec = importlib.util.spec_from_file_location("reference_solution", REFERENCE_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return vars(module)


def reference_with(name, function):
    """A fresh copy of the reference whose `name` is `function` (looked up by forward/backward/train)."""
    ns = {"__name__": "reference_hybrid"}
    exec(compile(REFERENCE_PATH.read_text(), str(REFERENCE_PATH), "exec"), ns)
    ns[name] = function
    return ns


def play(cells, label):
    """Exec the notebook's cells into one fresh namespace, as Jupyter would."""
    ns = {"__name__": "__main__"}
    for i, cell in enumerate(cells):
        exec(compile(cell, f"<{label} cell {i}>", "exec"), ns)
    return ns


# ------------------------------------------------------------------ comparing


def rel_error(a, e):
    a = np.asarray(a, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    return float(np.linalg.norm(a - e) / max(np.linalg.norm(a) + np.linalg.norm(e), config.REL_ERROR_FLOOR))


class Mismatch(Exception):
    pass


def compare(got, want, where):
    """Max relative error between `got` and the reference's `want`; Mismatch on a structural difference."""
    if isinstance(want, np.ndarray):
        if not isinstance(got, np.ndarray):
            raise Mismatch(f"{where}: expected ndarray, got {type(got).__name__}")
        if got.shape != want.shape:
            raise Mismatch(f"{where}: shape {got.shape}, reference {want.shape}")
        if got.dtype != np.float64:
            raise Mismatch(f"{where}: dtype {got.dtype}")
        if not np.all(np.isfinite(got)) and not np.array_equal(got, want, equal_nan=True):
            raise Mismatch(f"{where}: non-finite values")
        return rel_error(got, want)
    if isinstance(want, float):
        if isinstance(got, (bool, np.bool_)) or not isinstance(got, (float, np.floating)):
            raise Mismatch(f"{where}: expected a float, got {type(got).__name__}")
        return rel_error(got, want)
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            raise Mismatch(f"{where}: expected a tuple of {len(want)}, got {type(got).__name__}")
        return max([compare(g, w, f"{where}[{i}]") for i, (g, w) in enumerate(zip(got, want))], default=0.0)
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            raise Mismatch(f"{where}: keys {sorted(got) if isinstance(got, dict) else got!r}, reference {sorted(want)}")
        return max([compare(got[k], want[k], f"{where}[{k!r}]") for k in want], default=0.0)
    raise TypeError(f"{where}: cannot compare a reference {type(want).__name__}")


def compare_history(got, want, where):
    if not isinstance(got, (list, np.ndarray)) or len(got) != len(want):
        raise Mismatch(f"{where}: expected {len(want)} losses, got {got!r}")
    for i, h in enumerate(got):
        if isinstance(h, (bool, np.bool_)) or not isinstance(h, (float, np.floating)):
            raise Mismatch(f"{where}[{i}]: expected a float, got {type(h).__name__}")
    return rel_error(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64))


def snapshot(value, depth=0):
    """A deep, comparable copy of an input: arrays, containers and the attributes of objects."""
    if isinstance(value, np.ndarray):
        return ("array", value.copy())
    if isinstance(value, dict):
        return ("dict", {k: snapshot(v, depth + 1) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [snapshot(v, depth + 1) for v in value])
    if isinstance(value, (int, float, str, type(None), np.generic)):
        return ("scalar", value)
    if depth < 4 and hasattr(value, "__dict__"):
        return ("object", id(value), snapshot(dict(vars(value)), depth + 1))
    return ("opaque", id(value))


def same(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "array":
        x, y = a[1], b[1]
        return x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)
    if a[0] == "dict":
        return a[1].keys() == b[1].keys() and all(same(a[1][k], b[1][k]) for k in a[1])
    if a[0] in ("list", "tuple"):
        return len(a[1]) == len(b[1]) and all(same(x, y) for x, y in zip(a[1], b[1]))
    if a[0] == "scalar":
        return type(a[1]) is type(b[1]) and (a[1] == b[1] or a[1] != a[1] and b[1] != b[1])
    if a[0] == "object":
        return a[1] == b[1] and same(a[2], b[2])
    return a[1] == b[1]


def copied(args):
    """Fresh copies of a case's inputs, so that the reference and the style never share arrays."""
    def cp(v):
        if isinstance(v, np.ndarray):
            return v.copy()
        if isinstance(v, dict):
            return {k: cp(x) for k, x in v.items()}
        if isinstance(v, list):
            return [cp(x) for x in v]
        if isinstance(v, tuple):
            return tuple(cp(x) for x in v)
        return v
    return [cp(a) for a in args]


# ------------------------------------------------------------------ random cases


class Case:
    def __init__(self, fn, args, label):
        self.fn, self.args, self.label = fn, args, label


def random_Z(rng, shape, extremes=True):
    """Pre-activations of order 3 with exact zeros (+0 and -0) and, optionally, a few |z| up to 1000."""
    Z = rng.standard_normal(shape) * 3.0
    flat = Z.reshape(-1)
    k = max(1, flat.size // 4)
    flat[rng.choice(flat.size, size=k, replace=False)] = 0.0
    if flat.size >= 3:
        flat[rng.choice(flat.size, size=1)] = -0.0
    if extremes and flat.size >= 4:
        picks = rng.choice(flat.size, size=max(1, flat.size // 4), replace=False)
        flat[picks] = rng.choice([-1000.0, 1000.0, -745.0, 710.0, -40.0, 40.0, -20.0, 20.0], size=picks.size)
    return Z


def one_hot(rng, K, N):
    Y = np.zeros((K, N))
    Y[rng.integers(0, K, size=N), np.arange(N)] = 1.0
    return Y


def random_net(rng, depth, n0, activations=None, zero_relu_rows=False):
    sizes = [n0] + [int(rng.integers(1, 6)) for _ in range(depth)]
    params = {}
    for l in range(1, depth + 1):
        params[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1])) * rng.uniform(0.5, 1.5)
        params[f"b{l}"] = rng.standard_normal((sizes[l], 1)) * 0.5
    if activations is None:
        activations = [str(a) for a in rng.choice(NAMES, size=depth)]
    if zero_relu_rows:
        # a row of zeros in W and b makes that unit's pre-activation exactly 0 for every example
        for l, name in enumerate(activations, 1):
            if name == "relu":
                i = int(rng.integers(0, sizes[l]))
                params[f"W{l}"][i, :] = 0.0
                params[f"b{l}"][i, 0] = 0.0
    return params, list(activations), sizes


def cases_for_seed(seed, ref):
    rng = np.random.default_rng(10_000 + seed)
    out = []
    N_big = int(rng.integers(2, 9))
    for N in (1, N_big):
        n = int(rng.integers(1, 7))
        for name in ("sigmoid", "tanh", "relu"):
            for extremes in (False, True):
                Z = random_Z(rng, (n, N), extremes)
                out.append(Case(f"{name}_forward", [Z], f"{name}_forward Z{Z.shape} ext={extremes}"))
                Z = random_Z(rng, (n, N), extremes)
                dA = rng.standard_normal((n, N))
                out.append(Case(f"{name}_backward", [dA, Z], f"{name}_backward Z{Z.shape} ext={extremes}"))
        n_out, n_in = int(rng.integers(1, 7)), int(rng.integers(1, 7))
        W = rng.standard_normal((n_out, n_in))
        b = rng.standard_normal((n_out, 1))
        A_prev = rng.standard_normal((n_in, N))
        out.append(Case("dense_forward", [A_prev, W, b], f"dense_forward W{W.shape} N={N}"))
        dZ = rng.standard_normal((n_out, N))
        out.append(Case("dense_backward", [dZ, A_prev, W], f"dense_backward W{W.shape} N={N}"))
        K = int(rng.integers(1, 6))
        out.append(Case("mse_loss", [rng.standard_normal((K, N)), rng.uniform(0, 1, (K, N))], f"mse_loss K={K} N={N}"))
        K = int(rng.integers(2, 7))
        out.append(Case("softmax_cross_entropy", [rng.standard_normal((K, N)) * 2, one_hot(rng, K, N)],
                        f"softmax_ce one-hot K={K} N={N}"))
        soft = rng.uniform(0, 1, (K, N))
        out.append(Case("softmax_cross_entropy", [random_Z(rng, (K, N)), soft / soft.sum(axis=0)],
                        f"softmax_ce soft targets, extreme logits K={K} N={N}"))
        # networks: every activation in a 4-layer net, 4 random layers, 1 layer, ReLU units stuck at 0
        nets = [
            random_net(rng, 4, int(rng.integers(1, 6)), [str(a) for a in rng.permutation(NAMES)]),
            random_net(rng, 4, int(rng.integers(1, 6))),
            random_net(rng, 1, int(rng.integers(1, 6))),
            random_net(rng, 3, int(rng.integers(1, 6)), ["relu", "relu", str(rng.choice(NAMES))], zero_relu_rows=True),
        ]
        for params, acts, sizes in nets:
            X = rng.standard_normal((sizes[0], N))
            if X.size >= 2:
                X.reshape(-1)[0] = 0.0
            label = f"{'-'.join(acts)} sizes={sizes} N={N}"
            out.append(Case("forward", [X, params, acts], "forward " + label))
            out.append(Case("backward", [rng.standard_normal((sizes[-1], N)), X, params, acts],
                            "backward " + label))
        params, _, _ = random_net(rng, 3, int(rng.integers(1, 6)))
        grads = {k: rng.standard_normal(v.shape) for k, v in params.items()}
        out.append(Case("sgd_update", [params, grads, float(rng.uniform(0.01, 2.0))], f"sgd_update N={N}"))
    # train: both losses, full batch and mini-batches (1, a size that does not divide N, >= N)
    for loss in ("mse", "softmax_ce"):
        N = int(rng.integers(5, 12))
        for batch_size in (None, 1, int(rng.integers(2, N)), N + int(rng.integers(0, 3))):
            out.append(stable_train_case(rng, ref, loss, N, batch_size))
    # train on a single example, full batch
    params, acts, sizes = random_net(rng, 2, 3)
    out.append(Case("train", [rng.standard_normal((3, 1)), rng.uniform(0, 1, (sizes[-1], 1)), params, acts,
                              "mse", 0.5, 3, None, 0], f"train N=1 {'-'.join(acts)}"))
    return out


REDRAWN = [0]  # diverging training draws replaced


def stable_train_case(rng, ref, loss, N, batch_size):
    """A random training run on which the reference's loss stays finite and bounded.

    A diverging run (the loss blowing up to overflow) would amplify rounding differences without
    bound and test nothing, so such draws are redrawn."""
    while True:
        depth = int(rng.integers(1, 5))
        acts = [str(a) for a in (rng.permutation(NAMES) if depth == 4 else rng.choice(NAMES, size=depth))]
        sizes = [int(rng.integers(1, 6)) for _ in range(depth)] + [int(rng.integers(2 if loss == "softmax_ce" else 1, 5))]
        params = init_params(sizes, seed=int(rng.integers(0, 1000)))
        for l in range(1, depth + 1):
            params[f"b{l}"] = rng.standard_normal(params[f"b{l}"].shape) * 0.3
        X = rng.standard_normal((sizes[0], N))
        Y = one_hot(rng, sizes[-1], N) if loss == "softmax_ce" else rng.uniform(0, 1, (sizes[-1], N))
        args = [X, Y, params, acts, loss, float(rng.uniform(0.05, 1.0)), int(rng.integers(2, 5)),
                batch_size, int(rng.integers(0, 100))]
        case = Case("train", args, f"train {loss} {'-'.join(acts)} sizes={sizes} N={N} bs={batch_size}")
        status, result = call(ref, case, copied(args))
        if status == "ok":
            start = ref[{"mse": "mse_loss", "softmax_ce": "softmax_cross_entropy"}[loss]](
                ref["forward"](X, params, acts)[0], Y)[0]
            if max(result[1]) <= 2.0 * start + 1.0:
                return case
        REDRAWN[0] += 1


# ------------------------------------------------------------------ running one case


def call(ns, case, args):
    """Run one case in `ns`. Returns ('ok', result) or ('raised', exception type name)."""
    fn = ns[case.fn]
    try:
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            if case.fn == "backward":
                dA_out, X, params, acts = args
                _, caches = ns["forward"](X, params, acts)
                before = snapshot([dA_out, caches, params, acts])
                result = fn(dA_out, caches, params, acts)
                if not same(before, snapshot([dA_out, caches, params, acts])):
                    return "mutated", "backward changed dA_out, caches, params or activations"
                return "ok", result
            before = snapshot(args)
            result = fn(*args)
            if not same(before, snapshot(args)):
                return "mutated", f"{case.fn} changed its inputs"
            return "ok", result
    except Exception as exc:  # noqa: BLE001 - any failure of the student's code is a finding
        return "raised", f"{type(exc).__name__}: {exc}"


def judge(case, got, want):
    """Relative error of a style's result against the reference's, or a Mismatch."""
    if case.fn == "forward":
        if not isinstance(got, tuple) or len(got) != 2:
            raise Mismatch("forward must return (A_out, caches)")
        return compare(got[0], want[0], "A_out")
    if case.fn == "train":
        if not isinstance(got, tuple) or len(got) != 2:
            raise Mismatch("train must return (params, history)")
        return max(compare(got[0], want[0], "params"), compare_history(got[1], want[1], "history"))
    return compare(got, want, case.fn)


def run(ns, ref, cases, tol, ref_may_raise=False):
    """Per function: number of cases, worst error, failures [(label, message)].

    With ref_may_raise (a hybrid reference carrying a bug), a case on which both raise matches."""
    table = {name: {"cases": 0, "worst": 0.0, "fail": []} for name in CONTRACT}
    for case in cases:
        row = table[case.fn]
        row["cases"] += 1
        status, got = call(ns, case, copied(case.args))
        rstatus, want = call(ref, case, copied(case.args))
        if rstatus != "ok":
            if ref_may_raise and status == "raised" and rstatus == "raised":
                continue  # both fail the same way (only possible against a hybrid reference)
            row["fail"].append((case, f"reference: {want}; style: {status} {got if status != 'ok' else ''}"))
            continue
        if status != "ok":
            row["fail"].append((case, got))
            continue
        try:
            err = judge(case, got, want)
        except Mismatch as exc:
            row["fail"].append((case, str(exc)))
            row["worst"] = float("inf")
            continue
        row["worst"] = max(row["worst"], err)
        if not err <= tol:
            row["fail"].append((case, f"relative error {err:.2e}"))
    return table


# ------------------------------------------------------------------ source diff for the buggy entries


def definitions(cells):
    defs = {}
    for cell in cells:
        for node in ast.parse(cell).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defs[node.name] = ast.dump(node)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        defs[t.id] = ast.dump(node)
    return defs


def changed_definitions(cells, base_cells):
    a, b = definitions(cells), definitions(base_cells)
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


# ------------------------------------------------------------------ main


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("styles", nargs="*", help="style ids (default: all)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failing case")
    opts = parser.parse_args()

    ref = load_reference()
    cases = [c for seed in range(opts.seeds) for c in cases_for_seed(seed, ref)]
    counts = {name: sum(c.fn == name for c in cases) for name in CONTRACT}
    print(f"{len(cases)} cases over {opts.seeds} seeds: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"({REDRAWN[0]} training draws on which the reference diverged were redrawn)")
    print(f"tolerance {opts.tol:.0e} (norm-wise relative error, floor {config.REL_ERROR_FLOOR:g})\n")

    ids = opts.styles or list(STYLES)
    ok = True
    for sid in ids:
        entry = STYLES[sid]
        problems = []
        if entry["cells"][0] != IMPORTS:
            problems.append("first cell is not the import cell")
        t0 = time.perf_counter()
        out = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
            warnings.simplefilter("always")
            ns = play(entry["cells"], sid)
            for name in CONTRACT:
                if not callable(ns.get(name)):
                    problems.append(f"{name} is not defined")
                elif ns[name].__code__.co_argcount != ARITY[name]:
                    problems.append(f"{name} takes {ns[name].__code__.co_argcount} arguments")
            if problems:
                table = None
            else:
                table = run(ns, ref, cases, opts.tol)
        elapsed = time.perf_counter() - t0
        printed = out.getvalue().count("\n")
        user_warnings = [w for w in caught if not issubclass(w.category, (DeprecationWarning,))]
        buggy = sid in BUGGY
        print(f"== {sid}{'  [BUGGY on purpose]' if buggy else ''}  ({elapsed:.1f} s, {printed} lines printed, "
              f"{len(user_warnings)} warnings{': ' + repr(str(user_warnings[0].message)) if user_warnings else ''})")
        print(f"   {entry['note']}")
        if problems:
            ok = False
            print("   FAIL: " + "; ".join(problems))
            continue
        failing = [name for name in CONTRACT if table[name]["fail"]]
        for name in CONTRACT:
            row = table[name]
            mark = "ok  " if not row["fail"] else "DIFF" if buggy else "FAIL"
            line = f"   [{mark}] {name:<22} {row['cases']:>4} cases  worst rel err {row['worst']:.1e}"
            if row["fail"]:
                line += f"  {len(row['fail'])} differ/fail"
            print(line)
            if row["fail"] and (opts.verbose or not buggy):
                for case, msg in row["fail"][: None if opts.verbose else 3]:
                    print(f"          {case.label}: {msg}")
        if not buggy:
            if failing:
                ok = False
            print(f"   => {'PASS' if not failing else 'FAIL: ' + ', '.join(failing)}\n")
            continue
        ok &= check_buggy(sid, entry, ns, table, cases, opts)
    print("ALL CHECKS PASSED" if ok else "SOME CHECKS FAILED")
    return 0 if ok else 1


def exercises(case, named, buggy_fn, ref, tol):
    """Whether the reference, running `case` with `named` replaced by `buggy_fn`, ever calls it on
    inputs where its result differs from the reference's `named` (a sigmoid layer that receives a
    nonzero gradient; a batch of more than one example for db)."""
    hit = [False]

    def traced(*args):
        got = buggy_fn(*args)
        want = ref[named](*args)
        try:
            if compare(got, want, named) > tol:
                hit[0] = True
        except Mismatch:
            hit[0] = True
        return got

    hybrid = reference_with(named, traced)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        call(hybrid, case, copied(case.args))
    return hit[0]


def check_buggy(sid, entry, ns, table, cases, opts):
    base, named, definition = BUGGY[sid]
    verdicts = []
    # (1) one definition changed
    changed = changed_definitions(entry["cells"], STYLES[base]["cells"])
    verdicts.append((changed == [definition], f"source differs from {base!r} only in {changed}"))
    # (2) only the named building block differs; backward/train only where the bug is on the path
    differing = [name for name in CONTRACT if table[name]["fail"]]
    blocks = [n for n in differing if n in BUILDING_BLOCKS or n == "forward"]
    verdicts.append((blocks == [named], f"building blocks and forward differing from the reference: {blocks}"))
    ref = load_reference()
    for fn in ("backward", "train"):
        failed = {id(c) for c, _ in table[fn]["fail"]}
        fn_cases = [c for c in cases if c.fn == fn]
        hit = {id(c) for c in fn_cases if exercises(c, named, ns[named], ref, opts.tol)}
        verdicts.append((failed == hit, f"{fn} differs in {len(failed)}/{len(fn_cases)} cases: exactly the "
                                        f"{len(hit)} on which {named} was called with inputs where the bug shows"))
    # (3) the whole notebook behaves like the reference with only `named` replaced by the entry's
    hybrid = reference_with(named, ns[named])
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        against_hybrid = run(ns, hybrid, cases, opts.tol, ref_may_raise=True)
    bad = {n: r["fail"] for n, r in against_hybrid.items() if r["fail"]}
    worst = max(r["worst"] for r in against_hybrid.values())
    verdicts.append((not bad, f"all 14 functions match the reference with only {named} swapped for this "
                              f"entry's (worst rel err {worst:.1e})" + (f"; mismatches in {sorted(bad)}" if bad else "")))
    for name, fails in bad.items():
        for case, msg in fails[:3]:
            print(f"          vs hybrid {case.label}: {msg}")
    for passed, text in verdicts:
        print(f"   [{'ok  ' if passed else 'FAIL'}] {text}")
    good = all(p for p, _ in verdicts)
    print(f"   => {'PASS: differs only in ' + named if good else 'FAIL'}\n")
    return good


if __name__ == "__main__":
    sys.exit(main())
