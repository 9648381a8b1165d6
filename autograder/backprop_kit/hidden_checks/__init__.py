"""The autograder's hidden checks: every question's cases, the diagnosis of a failure, and calibration.

A check pays only by agreeing with the reference (solutions/reference.py), computed in
this process, on inputs drawn fresh from the run's seed: nothing a student can predict
or look up. Each question has two parts:
- visible: the structure of the notebook's public checks, on fresh values, reported at once;
- hidden: more shapes, deep nets, extremes and training, reported after publication.
The structure each check covers is fixed (shapes, sign patterns, exact zeros at the ReLU
kink, extremes, every activation in every position of a deep net); only the values are
fresh, so a systematic bug fails the same checks under every seed.

Finite differences of the student's own forward never pay: when a backward disagrees with
the reference, they say which oracle disagreed.

The modules: loading (the reference), standins (its answers to the student's process),
oracles (a backward against the reference), inputs (fresh inputs of fixed structure), and the
checks of activations, layers (dense and losses), network (network and sgd) and train.
None of them may ever reach a student.
"""

import time
from functools import lru_cache

from .activations import activation_cases
from .layers import dense_cases, loss_cases
from .loading import reference
from .network import network_cases, sgd_cases
from .oracles import which_oracle
from .standins import Allowed, local_caller, serve
from .train import keep_reference_run, learning_task, train_cases

__all__ = ["Allowed", "all_cases", "calibrate", "diagnose", "local_caller", "reference", "serve", "which_oracle"]


def diagnose(calls):
    """Name the known mistake behind a failing check, from the calls it made (see hints.py)."""
    from ..hints import diagnose as match

    return match(calls, reference())


def calibrate():
    """Seconds the reference takes for a whole digits training (config.DIGITS, sigmoid) on this
    machine, now: the measure of its speed that call and cell limits scale with. The run is
    one the digits check needs anyway: it is kept for it."""
    args, _ = learning_task("digits", "sigmoid")
    started = time.perf_counter()
    run = reference().train(*args)
    seconds = time.perf_counter() - started
    keep_reference_run("digits", "sigmoid", run)
    return seconds


@lru_cache(maxsize=1)
def all_cases():
    """{question: (visible cases, hidden cases)}."""
    return {
        "sigmoid": activation_cases("sigmoid"),
        "tanh": activation_cases("tanh"),
        "relu": activation_cases("relu"),
        "dense": dense_cases(),
        "losses": loss_cases(),
        "network": network_cases(),
        "sgd": sgd_cases(),
        "train": train_cases(),
    }
