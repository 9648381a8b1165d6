"""Comparing a backward with the reference and, when they disagree, saying which oracle disagreed."""

import numpy as np

from backprop_lab import config
from backprop_lab.checking import CheckFailure
from backprop_lab.expectations import expect_array, rel_error

REF = "the reference"
REF_FORWARD = "the reference (a forward bug: your forward disagrees with the reference)"


def expect_gradient(where, got, want, inputs, fd, mask=None, forward_passed=False):
    """A backward's output against the reference; on failure, also say which oracle disagreed.

    `fd()` gives centred differences of the student's own forward; `mask` keeps the entries
    where finite differences are valid (off ReLU's kink). `forward_passed`: the forward has
    failed none of its checks so far, so the oracles may not blame it.
    """
    try:
        expect_array(where, got, want, config.TOL_REFERENCE, inputs, REF)
    except CheckFailure as exc:
        verdict = which_oracle(got, want, fd, mask, forward_passed)
        raise CheckFailure(f"{exc}\n  {verdict}" if verdict else str(exc)) from None


def which_oracle(got, want, fd, mask=None, forward_passed=False):
    """What finite differences of the student's forward say about a backward that disagrees with
    the reference; None when they say nothing the checks above do not contradict."""
    try:
        numeric = fd()
    except CheckFailure as exc:
        return f"Oracles: finite differences of your forward could not be taken ({exc})."
    keep = np.ones(want.shape, dtype=bool) if mask is None else mask
    noise = getattr(numeric, "atol", 0.0)

    def agree(a, b):
        return rel_error(a, b) <= config.TOL_FINITE_DIFF or np.linalg.norm(a - b) <= noise

    forward_right = agree(numeric[keep], want[keep])
    consistent = isinstance(got, np.ndarray) and got.shape == want.shape and agree(got[keep], numeric[keep])
    if forward_right and consistent:  # finite differences cannot tell the backward from the reference's
        if not keep.all():
            return ("Oracles: away from z = 0 your backward agrees with finite differences of your forward and with the reference; "
                    "it differs where Z is exactly 0, where finite differences cannot judge (the kink) and the course's convention decides.")
        return ("Oracles: finite differences of your forward agree with your backward and with the reference alike: "
                "the difference is too small for them to see.")
    if forward_right:
        return ("Oracles: finite differences of your own forward agree with the reference, your backward does not: "
                "your backward disagrees with your own forward (a gradient bug).")
    if forward_passed:  # the forward passed its checks: finite differences here are no evidence against it
        return None
    if consistent:
        return ("Oracles: your backward agrees with finite differences of your own forward, but your forward "
                "disagrees with the reference (a forward bug): fix the forward.")
    return ("Oracles: your forward disagrees with the reference, and your backward disagrees with your own forward: "
            "fix the forward first, then the backward.")
