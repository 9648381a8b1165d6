"""The train question's checks: one step, trajectories, and learning XOR and digits along the reference's losses."""

import threading
from functools import lru_cache

import numpy as np

from backprop_lab import config
from backprop_lab.checking import Case, CheckFailure
from backprop_lab.expectations import expect_array, expect_tuple
from backprop_lab.helpers import accuracy, init_params, load_digits_split, load_xor

from .inputs import ACTIVATIONS, one_hot, worked_example_shape
from .loading import reference


def _expect_trajectory(c, args, inputs, label=""):
    got = expect_tuple("train", c.call("train", *args), 2)
    want_params, want_history = reference().train(*args)
    history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
    expect_array(f"train → history{label}", history, np.asarray(want_history), config.TOL_TRAJECTORY, inputs, "the reference's trajectory")
    if not isinstance(got[0], dict):
        raise CheckFailure(f"train: expected params as a dict, got {type(got[0]).__name__}.")
    for key in want_params:
        expect_array(f"train → params[{key!r}]{label}", got[0].get(key), want_params[key], config.TOL_TRAJECTORY, inputs, "the reference's trajectory")
    return got


def _train_one_step(c, rng):
    X, Y, params, acts = worked_example_shape(rng)
    lr = config.WORKED_EXAMPLE_LEARNING_RATE
    _expect_trajectory(c, (X, Y, params, acts, "mse", lr, 1, None, 0), {"X": X, "Y": Y, "activations": acts, "epochs": 1}, " after one step")


def _trajectory(loss, mini, act):
    """A small problem trained a few epochs. With mini-batches, the last batch is always shorter
    than the others (N is not a multiple of the batch size), so dropping it never goes unseen."""

    def run(c, rng):
        n0, h = int(rng.integers(2, 5)), int(rng.integers(2, 6))
        bs = int(rng.integers(2, 4))
        N = bs * int(rng.integers(3, 5)) + int(rng.integers(1, bs))
        if loss == "mse":
            k = int(rng.integers(1, 3))
            acts, Y = [act, "sigmoid"], rng.uniform(0.0, 1.0, (k, N))
        else:
            k = int(rng.integers(2, 5))
            acts, Y = [act, "identity"], one_hot(rng, k, N)
        X = rng.normal(size=(n0, N))
        params = init_params([n0, h, k], seed=int(rng.integers(2**31)))
        lr, epochs, seed = float(rng.uniform(0.05, 0.5)), int(rng.integers(3, 7)), int(rng.integers(2**31))
        bs = bs if mini else None
        _expect_trajectory(c, (X, Y, params, acts, loss, lr, epochs, bs, seed), {"X": X, "Y": Y, "activations": acts, "batch_size": bs, "epochs": epochs})

    kind = "mini-batch" if mini else "full-batch"
    return run, f"train follows the reference's {kind} trajectory ({loss}, {act} hidden layer)"


def _train_uses_arguments(c, rng):
    """Two datasets of XOR's shape: a train that reads globals returns the same thing for both."""
    params = init_params([2, 3, 1], seed=int(rng.integers(2**31)))
    acts = ["tanh", "sigmoid"]
    datasets = [(rng.normal(size=(2, 4)), rng.uniform(0.0, 1.0, (1, 4))) for _ in range(2)]
    answers = [expect_tuple("train", c.call("train", X, Y, params, acts, "mse", 0.5, 3, None, 0), 2) for X, Y in datasets]
    for (X, Y), got in zip(datasets, answers):
        _, want_history = reference().train(X, Y, params, acts, "mse", 0.5, 3, None, 0)
        history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
        expect_array("train → history", history, np.asarray(want_history), config.TOL_TRAJECTORY, {"X": X, "Y": Y, "activations": acts}, "the reference's trajectory")


def learning_task(task, activation):
    """(args of train, test data) for XOR or digits with one hidden activation, from config."""
    if task == "xor":
        cfg = config.XOR
        X, Y = load_xor()
        params = init_params([2, cfg["hidden_units"], 1], seed=cfg["seeds"][activation])
        return (X, Y, params, [activation, "sigmoid"], "mse", cfg["learning_rate"], cfg["epochs"], None, 0), (X, Y)
    cfg = config.DIGITS
    X_train, Y_train, X_test, Y_test = _digits_data()
    params = init_params([64, cfg["hidden_units"], 10], seed=cfg["init_seed"])
    args = (X_train, Y_train, params, [activation, "identity"], "softmax_ce", cfg["learning_rate"], cfg["epochs"], cfg["batch_size"], cfg["shuffle_seed"])
    return args, (X_test, Y_test)


_RUNS = {}  # (task, activation): the reference's whole training run (calibrate fills one of them)
_PENDING = {}  # (task, activation): the reference's whole training run, under way in a thread


def keep_reference_run(task, activation, run):
    """Keep a whole training run of the reference made elsewhere (calibrate's) for the check that needs it."""
    _RUNS[task, activation] = run


def _start_reference_run(task, activation):
    """Start the reference's whole training run in a thread, unless it is known or under way: it then
    runs while this process only waits for the student's train, which runs in the student's process."""
    if (task, activation) not in _RUNS and (task, activation) not in _PENDING:
        args, _ = learning_task(task, activation)
        _PENDING[task, activation] = _Background(reference().train, *args)


def _reference_run(task, activation):
    if (task, activation) not in _RUNS:
        _start_reference_run(task, activation)
        _RUNS[task, activation] = _PENDING.pop((task, activation)).result()  # one that raised is started anew next time
    return _RUNS[task, activation]


class _Background:
    """fn(*args), computed in a daemon thread of this process; `result()` waits for it."""

    def __init__(self, fn, *args):
        self._done, self._value, self._error = threading.Event(), None, None
        try:
            threading.Thread(target=self._work, args=(fn, args), daemon=True).start()
        except RuntimeError:  # no thread to be had (a tight memory limit): compute it now
            self._work(fn, args)

    def _work(self, fn, args):
        try:
            self._value = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - raised again where the result is asked for
            self._error = exc
        finally:
            self._done.set()

    def result(self):
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


_LEARNING = tuple((task, activation) for task in ("xor", "digits") for activation in ACTIVATIONS)  # in the checks' order


def _learns(task, activation):
    """The student's train on XOR or digits: its first epochs are the reference's, exactly; its whole
    run follows the reference's losses; and the trained network reaches the accuracy required."""

    def run(c, rng):
        args, (X_test, Y_test) = learning_task(task, activation)
        first = args[:6] + (config.TRAJECTORY_EPOCHS,) + args[7:]
        _expect_trajectory(c, first, {"activations": args[3], "epochs": config.TRAJECTORY_EPOCHS}, f" over the first {config.TRAJECTORY_EPOCHS} epochs")
        for ahead in _LEARNING[_LEARNING.index((task, activation)):][:2]:  # this check's run and the next one's:
            _start_reference_run(*ahead)  # they go on in threads while the student's whole runs go on in its process
        got = expect_tuple("train", c.call("train", *args), 2)
        history = np.asarray(got[1], dtype=float) if got[1] is not None else np.array([])
        want = np.asarray(_reference_run(task, activation)[1])
        expect_array(f"train → history over all {args[6]} epochs", history, want, config.TOL_LONG_TRAJECTORY, {"activations": args[3]}, "the reference's losses")
        acc = accuracy(_predict(got[0], X_test, args[3]), Y_test)
        need = 1.0 if task == "xor" else config.DIGITS["min_test_accuracy"]
        if acc < need:
            raise CheckFailure(f"train: {task} with a {activation} hidden layer reaches {acc:.1%} accuracy, below the required {need:.0%}.")

    if task == "xor":
        return Case(f"train solves XOR with a {activation} hidden layer, along the reference's trajectory", run, functions=("train",))
    return Case(f"train reaches {config.DIGITS['min_test_accuracy']:.0%} test accuracy on digits ({activation}), along the reference's trajectory", run, weight=2.0, functions=("train",))


@lru_cache(maxsize=1)
def _digits_data():
    return load_digits_split()


def _predict(params, X, acts):
    """The reference's forward on the student's trained params."""
    if not isinstance(params, dict):
        raise CheckFailure(f"train: expected params as a dict, got {type(params).__name__}.")
    try:
        clean = {k: np.asarray(v, dtype=float) for k, v in params.items()}
        return reference().forward(X, clean, acts)[0]
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckFailure(f"train: the returned params cannot be used by a network: {exc}") from None


def train_cases():
    visible = [
        Case("one training step on a fresh 2-3-1 network matches the reference", _train_one_step, weight=2.0, functions=("train",)),
        Case("train with mini-batches: one shuffle per epoch from one rng", _trajectory("mse", True, "tanh")[0], functions=("train",)),
    ]
    trajectories = (_trajectory("mse", False, "tanh"), _trajectory("mse", True, "relu"), _trajectory("softmax_ce", True, "sigmoid"))
    hidden = [Case(title, run, weight=2.0, functions=("train",)) for run, title in trajectories]
    hidden.append(Case("train trains on the X and Y it is given", _train_uses_arguments, functions=("train",)))
    hidden += [_learns(task, activation) for task, activation in _LEARNING]
    return visible, hidden
