"""How feedback is written: numbers without signed zeros, texts cut between words, a difference
described in plain words where a relative error would mean nothing, and advice on the numerical
warnings a student's function raised (they cost no points).

Shared by grader.check in the notebook and by the autograder (through checking.py and expectations.py).
"""

import contextlib
import re
import warnings

import numpy as np

from backprop_lab import config

_DIGIT = re.compile(r"[1-9]")


def number(x, spec=".3g"):
    """`x` written with `spec`, never as a signed zero: -0.0, or -1e-12 with '.2f', gives '0' or '0.00'."""
    try:
        text = format(float(x), spec)
    except (TypeError, ValueError):
        return str(x)
    mantissa = text.split("e")[0]
    if text.startswith("-") and not _DIGIT.search(mantissa) and "inf" not in text and "nan" not in text:
        text = text[1:]
    return text


def array_text(x, precision=8):
    """np.array2string without signed zeros."""
    return np.array2string(np.asarray(x, dtype=float) + 0.0, precision=precision)


def shorten(text, width):
    """`text` cut to at most `width` characters between two words, with an ellipsis when cut."""
    text = " ".join(str(text).split())
    if len(text) <= width:
        return text
    room = width - 1  # for the ellipsis
    cut = text[: room + 1]
    space = cut.rfind(" ")
    cut = cut[:space] if space > 0 else text[:room]
    return cut.rstrip(" ,;:(-") + "…"


# -- describing a difference -------------------------------------------------------------------------


def _tiny(norm):
    return norm <= config.REL_ERROR_FLOOR


def headline(actual, expected, err, tol, oracle):
    """How `actual` differs from `expected` (same shape, finite), for the first line of a failure.

    The norm-wise relative error is given only when it says something: not when the expected
    values are all but zero (it is then always about 1), not when the student's are, and not
    when the two are nowhere near each other (it is then 1 or close to it).
    """
    norm_a, norm_e = float(np.linalg.norm(actual)), float(np.linalg.norm(expected))
    if _tiny(norm_e):
        return f"differs from {oracle} (0 here): yours reaches {number(np.max(np.abs(actual)))}."
    if _tiny(norm_a):
        return f"differs from {oracle}: yours is 0 here, {oracle} is not."
    if err > 0.9:
        return f"differs from {oracle}: your values are nowhere near it (see the table)."
    return f"differs from {oracle}: relative error {number(err, '.2e')} (tolerance {number(tol, '.0e')})."


def _plain_ratio(yours, want):
    """'yours is 3.2 times the expected value', 'yours has the opposite sign', ..."""
    if yours == 0:
        return "yours is 0"
    if (yours < 0) != (want < 0):
        return "yours has the opposite sign"
    ratio = abs(yours) / abs(want)
    return f"yours is {number(ratio)} times the expected value"


def gives(oracle):
    """'gives' or 'give', as the oracle's name ('the reference', 'the exact values') asks."""
    return "give" if oracle.endswith(("differences", "values")) else "gives"


def _percent(fraction):
    """0.996 -> '99.6 %', 5e-05 -> '0.005 %': never an exponent."""
    value = 100 * fraction
    return f"{value:.3g} %" if value >= 0.001 else f"{value:.1e} %"


def error_table(actual, expected, rows=4):
    """Largest errors and a small aligned slice of expected against actual.

    The largest relative error is taken over the entries whose expected value is not all but 0
    (a relative error there means nothing); from 100 % up it is said in plain words.
    """
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    diff = np.abs(actual - expected)
    if not diff.size:
        return ""
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
    scale = float(np.max(np.abs(expected)))
    where = f"largest absolute error {number(diff.max())} at {list(worst)}"
    if abs(expected[worst]) <= 1e-3 * scale or scale <= config.REL_ERROR_FLOOR:
        where += ", where the expected value is 0" if expected[worst] == 0 else ", where the expected value is all but 0"
    meaningful = (np.abs(expected) > 1e-3 * scale) & (np.abs(expected) > config.REL_ERROR_FLOOR)
    if meaningful.any():
        rel = np.where(meaningful, diff / np.where(meaningful, np.abs(expected), 1.0), -1.0)
        k = tuple(int(i) for i in np.unravel_index(int(np.argmax(rel)), rel.shape))
        if rel[k] <= 0:
            pass  # every error is where the expected value is 0: no relative error means anything
        elif rel[k] < 1:
            where += f"; largest relative error {number(rel[k])} ({_percent(rel[k])})"
        else:
            where += f"; largest relative error at {list(k)}: {_plain_ratio(actual[k], expected[k])}"
    lines = ["  " + where, f"  {'index':<10}{'expected':>14}{'yours':>14}"]
    flat_e, flat_a = expected.reshape(-1), actual.reshape(-1)
    shown = sorted(set(range(min(rows, flat_e.size))) | {int(np.ravel_multi_index(worst, diff.shape))})
    for k in shown:
        idx = [int(i) for i in np.unravel_index(k, expected.shape)]
        lines.append(f"  {str(idx):<10}{number(flat_e[k], '.6g'):>14}{number(flat_a[k], '.6g'):>14}")
    return "\n".join(lines)


def float_difference(where, got, want, err, tol, oracle):
    """The failure message of a scalar that is not within `tol` of `want`."""
    text = f"{where}: got {number(got, '.8g')}, {oracle} {gives(oracle)} {number(want, '.8g')}"
    if abs(want) <= config.REL_ERROR_FLOOR or abs(got) <= config.REL_ERROR_FLOOR or err > 0.9:
        return text + "."
    return text + f" (relative error {number(err, '.2e')}, tolerance {number(tol, '.0e')})."


# -- numerical warnings ------------------------------------------------------------------------------

WARNINGS_KEPT = 3  # distinct warnings kept per call
WARNING_TEXT = 160  # characters kept of each


_SHOWN = {}  # the registry of the other warnings passed on: each is shown once per place


@contextlib.contextmanager
def numerical_warnings():
    """Record the RuntimeWarnings (overflow, invalid value, division by zero) raised inside;
    yields a list that holds their texts, e.g. 'RuntimeWarning: overflow encountered in exp',
    once the block has ended. Other warnings are shown as usual."""
    found, others = [], []
    try:
        with warnings.catch_warnings(record=True) as caught:  # the student's own filters stay as they are
            try:
                yield found
            finally:
                for w in caught:
                    if isinstance(w.category, type) and issubclass(w.category, RuntimeWarning):
                        text = shorten(f"{w.category.__name__}: {w.message}", WARNING_TEXT)
                        if text not in found and len(found) < WARNINGS_KEPT:
                            found.append(text)
                    else:
                        others.append(w)
    finally:
        for w in others[:WARNINGS_KEPT]:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=_SHOWN)  # once per place, as usual


def plain_warning(text):
    """A warning's text as one plain line: the student chose its message and even its category's
    name, so no line breaks (U+2028 too), no direction overrides, a category that is a name."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())
    category, sep, message = text.partition(": ")
    if not (sep and category.isidentifier() and category.isascii()):
        category, message = "RuntimeWarning", text
    return shorten(f"{category}: {message}", WARNING_TEXT)


def warning_advice(items, most=3):
    """Advice lines for [(function, warning text)]: one line per distinct warning, naming the
    functions whose calls raised it, then what it means."""
    by_text = {}
    for fn, text in items:
        names = by_text.setdefault(plain_warning(text), [])
        if fn not in names:
            names.append(fn)
    if not by_text:
        return []
    lines = [f"Advice (costs no points): calling {' and '.join(names)} raised {text}." for text, names in list(by_text.items())[:most]]
    if len(by_text) > most:
        lines.append(f"Advice: and {len(by_text) - most} more numerical warning(s).")
    lines.append(
        "A numerical warning means a number went out of range (np.exp of a large positive number overflows "
        "to inf, for one): arrange the formula so that every step stays finite."
    )
    return lines
