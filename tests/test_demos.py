"""The two demos students found wanting: the cost of a gradient and the tiny ReLU explorer.

Oracles are independent of demo_cost.py and demo_tiny_net.py:
- multiply-adds are tallied one by one by a naive triple-loop matrix product, and checked
  against the closed form N sum n_l n_(l-1) written out here;
- the tiny network's numbers come from the lecture's own formulas (its Observable cell), typed here;
- timings are injected through a virtual clock that the test's forward and backward advance.
"""

import re
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from backprop_lab import demo_cost, demo_tiny_net, demos  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from styles import BUGGY, STYLES  # noqa: E402

CORRECT_STYLES = [s for s in STYLES if s not in BUGGY]


def play(cells):
    ns = {"__name__": "__main__"}
    for cell in cells:
        exec(cell, ns)
    return ns


@pytest.fixture
def figures(monkeypatch):
    """The figures the cost demo shows, kept instead of displayed."""
    import matplotlib.pyplot as plt

    shown = []

    def keep(fig):
        shown.append(fig)
        plt.close(fig)

    monkeypatch.setattr(demo_cost, "_show", keep)
    return shown


# ---------------------------------------------------------------- counting: independent oracles


def tallied_gradient(sizes, N, seed=0):
    """Multiply-adds of one forward and one backward pass, tallied one at a time."""
    tally = {"forward": 0, "backward": 0}

    def matmul(A, B, phase):
        out = np.zeros((A.shape[0], B.shape[1]))
        for i in range(A.shape[0]):
            for j in range(B.shape[1]):
                for p in range(A.shape[1]):
                    out[i, j] += A[i, p] * B[p, j]
                    tally[phase] += 1
        return out

    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    A, inputs = rng.standard_normal((sizes[0], N)), []
    for W in Ws:  # forward, identity activations: only the products matter here
        inputs.append(A)
        A = matmul(W, A, "forward")
    delta = A
    for W, A_prev in zip(reversed(Ws), reversed(inputs)):  # backward: BP3's delta A_prev^T, BP2's W^T delta
        matmul(delta, A_prev.T, "backward")
        delta = matmul(W.T, delta, "backward")
    return tally


def closed_form(sizes, N):
    W = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    F = N * sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return W, F


@pytest.mark.parametrize("sizes, N", [([2, 3, 1], 1), ([2, 3, 1], 4), ([3, 4, 2, 2], 3), ([5, 1, 6], 2)])
def test_counted_multiply_adds_equal_a_tally_of_every_product(sizes, N):
    tally = tallied_gradient(sizes, N)
    work = demo_cost.count_work(sizes, N)
    assert work["forward_multiply_adds"] == tally["forward"]
    assert work["backward_multiply_adds"] == tally["backward"] == 2 * tally["forward"]
    assert work["backprop"] == {"forward_passes": 1, "backward_passes": 1, "multiply_adds": tally["forward"] + tally["backward"]}
    W, _ = closed_form(sizes, N)
    assert work["finite_differences"] == {"forward_passes": 2 * W, "backward_passes": 0, "multiply_adds": 2 * W * tally["forward"]}


@pytest.mark.parametrize("sizes, N", [([64, 32, 10], 32), ([64, 512, 10], 512), ([784, 100, 100, 10], 60000), ([1, 1], 1)])
def test_counted_costs_equal_the_layer_size_formula(sizes, N):
    W, F = closed_form(sizes, N)
    work = demo_cost.count_work(sizes, N)
    assert work["parameters"] == W
    assert (work["forward_multiply_adds"], work["backward_multiply_adds"]) == (F, 2 * F)
    assert work["backprop"]["multiply_adds"] == 3 * F
    assert work["finite_differences"]["multiply_adds"] == 2 * W * F
    assert demo_cost.layer_sizes({f"{k}{l}": np.zeros((n, m if k == "W" else 1)) for l, (m, n) in enumerate(zip(sizes, sizes[1:]), 1) for k in "Wb"}) == sizes
    if sizes == [64, 32, 10]:  # the digits network of the notebook: 2,410 parameters, 4,820 passes
        assert (W, 2 * W, F) == (2410, 4820, 75776)


def test_counted_exponents_are_one_for_backprop_and_two_for_finite_differences():
    W, bp, fd = [], [], []
    for H in (32, 64, 128, 256, 512):  # the demo's default widths, N = 512
        work = demo_cost.count_work([64, H, 10], 512)
        W.append(work["parameters"])
        bp.append(work["backprop"]["multiply_adds"])
        fd.append(work["finite_differences"]["multiply_adds"])
    slope = lambda cost: np.polyfit(np.log(W), np.log(cost), 1)[0]  # noqa: E731
    assert abs(slope(bp) - 1) < 0.005 and abs(slope(fd) - 2) < 0.005
    assert abs(demo_cost.growth_exponent(W, bp) - 1) < 0.005 and abs(demo_cost.growth_exponent(W, fd) - 2) < 0.005
    np.testing.assert_allclose(np.array(fd) / np.array(bp), 2 * np.array(W) / 3)  # the ratio is exactly 2W/3


# ---------------------------------------------------------------- timings: the fit criterion


def power_law(W, exponent, jitter, seed=0, repeats=5):
    rng = np.random.default_rng(seed)
    return [list(1e-6 * w**exponent * rng.lognormal(0.0, jitter, repeats)) for w in W]


W5 = [2410, 4810, 9610, 19210, 38410]


def test_timing_fit_is_shown_for_clean_timings():
    for exponent in (1.0, 2.0, 1.3):
        k, error, reason = demo_cost.timing_fit(W5, power_law(W5, exponent, jitter=0.02))
        assert reason is None and abs(k - exponent) < 0.03 and error < 0.03


def test_timing_fit_is_withheld_for_noisy_narrow_or_bent_timings():
    k, error, reason = demo_cost.timing_fit(W5, power_law(W5, 1.0, jitter=0.6))  # a busy laptop
    assert k is None and error is None and reason.startswith("too noisy")
    _, _, reason = demo_cost.timing_fit(W5, power_law(W5, 0.3, jitter=0.01))  # times span 2.3x only
    assert reason.startswith("too narrow")
    bent = [[2e-2 + 1e-9 * w**2] * 5 for w in W5]  # a fixed overhead, then W²: no single exponent
    _, _, reason = demo_cost.timing_fit(W5, bent)
    assert reason.startswith("not one power law")
    _, _, reason = demo_cost.timing_fit(W5[:3], power_law(W5[:3], 1.0, jitter=0.0))
    assert reason.startswith("too few sizes")
    one_bad_size = power_law(W5, 1.0, jitter=0.01)
    one_bad_size[2] = [1.0, 1.0, 3.0, 3.0, 3.0]
    _, _, reason = demo_cost.timing_fit(W5, one_bad_size)
    assert reason.startswith("too noisy") and "9,610" in reason


class VirtualClock:
    """A clock that stands still except when the test's forward and backward spend time on it."""

    def __init__(self, noise=0.0, seed=0):
        self.now, self.noise, self.rng = 0.0, noise, np.random.default_rng(seed)

    def __call__(self):
        return self.now

    def spend(self, seconds):
        self.now += seconds * (self.rng.lognormal(0.0, self.noise) if self.noise else 1.0)


SECONDS_PER_MULTIPLY_ADD = 1e-7


def clocked(reference, clock):
    """The reference's forward and backward, each advancing the clock by its multiply-adds."""

    def products(params, N):
        depth = len(params) // 2
        return N * sum(np.size(params[f"W{l}"]) for l in range(1, depth + 1))

    def forward(X, params, activations):
        clock.spend(products(params, X.shape[1]) * SECONDS_PER_MULTIPLY_ADD)
        return reference.forward(X, params, activations)

    def backward(dA_out, caches, params, activations):
        clock.spend(2 * products(params, dA_out.shape[1]) * SECONDS_PER_MULTIPLY_ADD)
        return reference.backward(dA_out, caches, params, activations)

    return forward, backward


SMALL = {"widths": (8, 16, 32, 64, 128), "examples": 64, "sampled": 3, "repeats": 5}


def run_cost(reference, monkeypatch, capsys, noise, seed=0):
    clock = VirtualClock(noise, seed)
    monkeypatch.setattr(demo_cost, "_clock", clock)
    forward, backward = clocked(reference, clock)
    result = demos.gradient_cost(forward, backward, reference.softmax_cross_entropy, **SMALL)
    return result, capsys.readouterr().out


def test_cost_demo_fits_exponents_to_clean_timings_and_shows_them(reference, monkeypatch, capsys, figures):
    result, text = run_cost(reference, monkeypatch, capsys, noise=0.0)
    fits = result["timing_fits"]
    # small nets: W = 75H + 10 against 74H N multiply-adds per pass, so the exponents sit just above 1 and 2
    assert abs(fits["backprop"]["exponent"] - 1) < 0.02 and abs(fits["finite_differences"]["exponent"] - 2) < 0.02
    assert re.search(r"backpropagation\s+~ W\^1\.0[01] ± 0\.00", text) and re.search(r"finite differences\s+~ W\^2\.0[01] ± 0\.00", text)
    assert "no exponent" not in text
    assert len(figures) == 1


def test_cost_demo_withholds_the_timing_fit_when_timings_are_noisy(reference, monkeypatch, capsys, figures):
    result, text = run_cost(reference, monkeypatch, capsys, noise=1.0)
    for method in ("backprop", "finite_differences"):
        fit = result["timing_fits"][method]
        assert fit["exponent"] is None and fit["reason"].startswith("too noisy")
    assert re.search(r"backpropagation\s+no exponent: too noisy", text)
    assert re.search(r"finite differences\s+no exponent: too noisy", text)
    assert not re.search(r"~ W\^\d\.\d\d ±", text)  # no timed exponent anywhere
    assert re.search(r"counted growth: backprop ~ W\^1\.0[01], finite differences ~ W\^2\.0[01] ", text)  # the counts are unaffected
    assert len(figures) == 1


def count_block(text):
    """The demo's counted lines: part 1's passes and multiply-adds, and part 2's table of counts."""
    keep = [line for line in text.splitlines() if "multiply-adds" in line and " ms" not in line]
    start = text.index("Counted work of one full gradient:")
    keep += text[start : text.index("counted growth", start)].splitlines()
    part1 = [re.sub(r"\s+[\d.]+ ms$", "", line) for line in text.splitlines() if line.startswith(("  finite differences:", "  backpropagation:"))]
    return keep + part1


def test_cost_demo_counts_are_exact_and_identical_from_run_to_run(reference, monkeypatch, capsys, figures):
    first, text1 = run_cost(reference, monkeypatch, capsys, noise=1.0, seed=1)
    second, text2 = run_cost(reference, monkeypatch, capsys, noise=0.0, seed=2)
    assert count_block(text1) == count_block(text2)  # the timings differ, the counts do not
    assert [r["work"] for r in first["rows"]] == [r["work"] for r in second["rows"]]
    assert first["count_exponents"] == second["count_exponents"]
    # every printed count is the formula's
    for H in SMALL["widths"]:
        W, F = closed_form([64, H, 10], SMALL["examples"])
        assert re.search(rf"^\s+{H}\s+{W:,}\s+{2 * W:,}\s+{3 * F:,}\s+{2 * W * F:,}\s+{2 * W / 3:,.0f}$", text1, re.M), H
    W, F = closed_form([64, 32, 10], 32)
    assert f"finite differences: {2 * W:,} forward passes   2W F = {2 * W * F:,} multiply-adds" in re.sub(r"= +", "= ", text1)
    assert f"3F = {3 * F:,} multiply-adds" in re.sub(r"= +", "= ", text1)
    # the passes each method made, counted as your functions ran
    assert first["passes_counted"] == {"backprop": {"forward": 1, "backward": 1}, "finite_differences": {"forward": 2 * W, "backward": 0}}
    assert f"your forward ran {2 * W:,} times for finite differences, 1 + 1 backward for backpropagation" in text1
    assert abs(first["count_exponents"]["backprop"] - 1) < 0.02 and abs(first["count_exponents"]["finite_differences"] - 2) < 0.02
    assert first["relative_difference"] < 1e-6


@pytest.mark.parametrize("style", ["classes", "caches_dicts", "einsum_logsumexp"])
def test_cost_demo_runs_with_students_functions_in_other_styles(style, monkeypatch, capsys, figures):
    ns = play(STYLES[style]["cells"])
    result = demos.gradient_cost(ns["forward"], ns["backward"], ns["softmax_cross_entropy"], widths=(8, 16, 32, 64), examples=32, sampled=2, repeats=3)
    text = capsys.readouterr().out
    assert result["relative_difference"] < 1e-6, style
    assert result["passes_counted"]["finite_differences"] == {"forward": 4820, "backward": 0}
    assert re.search(r"counted growth: backprop ~ W\^1\.0[01], finite differences ~ W\^2\.0[01] ", text)
    assert len(figures) == 1


# ---------------------------------------------------------------- the tiny ReLU explorer


# The lecture's settings, typed from its Observable cell and the notebook's "things to try".
LECTURE_START = {"x1": 1.0, "x2": -1.0, "w11": 0.5, "w21": -0.5, "w_out": 1.0}
SETTINGS = [LECTURE_START, {**LECTURE_START, "w_out": 0.5}, {**LECTURE_START, "w_out": 0.5, "w11": -1.0}]
ROWS = ["z_h", "h", "y", "J", "δ_y = ∂J/∂y", "∂J/∂w_out", "δ_h = ∂J/∂z_h", "∂J/∂w11", "∂J/∂w21"]


def lecture(x1, x2, w11, w21, w_out):
    """The lecture's netCalc: forward, then backward by hand."""
    z_h = x1 * w11 + x2 * w21
    a_h = max(0.0, z_h)
    y = a_h * w_out
    dL_dy = y - 1.0
    dL_dzh = dL_dy * w_out if z_h > 0 else 0.0
    return [z_h, a_h, y, 0.5 * (y - 1.0) ** 2, dL_dy, dL_dy * a_h, dL_dzh, dL_dzh * x1, dL_dzh * x2]


def table_columns(text):
    """{row name: [value per setting]} from the static table."""
    columns = {}
    for row in ROWS:
        line = next(l for l in text.splitlines() if l.startswith(f"  {row} "))
        columns[row] = [float(v) for v in re.findall(r"[+-]\d+\.\d{3}", line)]
    return columns


def assert_static_explorer(text):
    assert "Sliders appear in Jupyter" in text
    columns = table_columns(text)
    for k, setting in enumerate(SETTINGS):
        line = "  ".join(f"{name} = {setting[name]:+.1f}" for name in LECTURE_START)
        assert f"({'abc'[k]}) {line}" in text
        np.testing.assert_allclose([columns[row][k] for row in ROWS], lecture(**setting), atol=5e-4)
    assert all(v != 0 for v in (columns[row][1] for row in ROWS)), "setting (b) has every value non-zero"
    assert sum(v != 0 for values in columns.values() for v in values) >= 15


def test_static_explorer_shows_the_lectures_settings_without_ipywidgets(reference, monkeypatch, capsys):
    r = reference
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # `import ipywidgets` raises ImportError
    with pytest.raises(ImportError):
        import ipywidgets  # noqa: F401
    for live in (True, False):
        monkeypatch.setattr(demo_tiny_net, "_live_frontend", lambda live=live: live)
        text = demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss)
        out = capsys.readouterr().out
        assert text in out
        assert_static_explorer(out)
        assert ("ipywidgets is not installed" in out) is live
        assert "(a) y = 1 is the target: J = 0 and every gradient is 0" in out
        assert "(c) z_h <= 0: the ReLU is off" in out


def test_static_explorer_comes_first_even_when_widgets_are_shown(reference, monkeypatch, capsys):
    import IPython.display

    r = reference
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(demo_tiny_net, "_live_frontend", lambda: True)
    demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss)
    assert_static_explorer(capsys.readouterr().out)
    assert len(shown) == 1  # the sliders


@pytest.mark.parametrize("style", CORRECT_STYLES)
def test_static_explorer_with_students_functions_in_every_style(style, capsys):
    ns = play(STYLES[style]["cells"])
    capsys.readouterr()
    demos.explore_tiny_relu_net(ns["forward"], ns["backward"], ns["mse_loss"])
    out = capsys.readouterr().out
    assert_static_explorer(out[out.index("Tiny ReLU network") :])


def test_static_explorer_starts_from_the_callers_values(reference, capsys):
    r = reference
    text = demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss, x1=0.3, x2=1.2, w11=1.5, w21=0.4, w_out=-2.0)
    assert "(a) x1 = +0.3  x2 = +1.2  w11 = +1.5  w21 = +0.4  w_out = -2.0   your starting values" in text
    columns = table_columns(text)
    np.testing.assert_allclose([columns[row][0] for row in ROWS], lecture(0.3, 1.2, 1.5, 0.4, -2.0), atol=5e-4)
    assert len(columns["z_h"]) == 4  # the caller's setting, then the lecture's three


def test_split_demo_modules_hold_no_reference_code():
    from backprop_kit import build

    files = {f"backprop_lab/{p.name}": p.read_text() for p in sorted(Path(demos.__file__).parent.glob("demo*.py"))}
    homes = {f"backprop_lab/{getattr(demos, name).__module__.split('.')[-1]}.py" for name in demos.__all__ if callable(getattr(demos, name))}
    assert homes <= set(files) and len(files) > len(homes), (sorted(homes), sorted(files))  # every demo's module, demos.py too
    assert build.leaks(files) == []
