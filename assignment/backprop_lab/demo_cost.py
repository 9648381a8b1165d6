"""The cost of a gradient: finite differences against backpropagation (demos.gradient_cost).

The lecture's claim is about work: centred finite differences need 2W forward passes of about W
multiply-adds each, so W², while backpropagation needs one forward and one backward pass, so W.
This demo therefore COUNTS the work, exactly, from the layer sizes and the batch size; those
numbers are the same on every machine. Wall-clock times come second: medians of repeats, and a
growth exponent is fitted to them only when they support one (see timing_fit).

What is counted: the multiply-adds of the matrix products, for a dense net n_0-n_1-...-n_L on a
batch of N examples (the sums run over the layers l = 1..L). Bias additions,
activations and the loss add work of order N * sum(n_l), one power of the width lower, and are
left out.
- forward pass: Z^(l) = W^(l) A^(l-1) multiplies (n_l, n_{l-1}) by (n_{l-1}, N), n_l n_{l-1} N
  multiply-adds; in all F = N * sum_l n_l n_{l-1}.
- backward pass: two products of the same size per layer, BP3's delta^(l) A^(l-1)ᵀ
  ((n_l, N) by (N, n_{l-1})) and BP2's W^(l)ᵀ delta^(l) ((n_{l-1}, n_l) by (n_l, N)), which
  dense_backward returns for every layer; BP4's sums over the batch are additions only. So 2F.
- backpropagation: 1 forward + 1 backward = 3F: a constant times one forward pass, so ~W.
- centred finite differences: 2 forward passes per parameter, 2W passes, 2W * F: ~W².
"""

import math
import time

import numpy as np

from backprop_lab import config
from backprop_lab.demo_plumbing import _one_thread, _pyplot, _show
from backprop_lab.helpers import init_params, load_digits_split

_clock = time.perf_counter  # the timer of every measurement here (tests put a virtual clock in its place)

TIMING_REPEATS = 5  # timed repeats per measurement; the median is reported
MIN_REPEAT_SECONDS = 0.01  # a quick operation is run several times per repeat, so a repeat lasts at least this

# A growth exponent is fitted to the timings only if all of these hold (timing_fit):
FIT_MIN_SIZES = 4  # at least this many network sizes
FIT_MAX_SPREAD = 0.25  # at every size, the repeats' interquartile range is at most 25% of their median
FIT_MIN_TIME_RANGE = 10.0  # the median times span at least a factor of 10, smallest to largest net
FIT_MAX_SLOPE_ERROR = 0.05  # the log-log line's slope has a standard error of at most 0.05

METHODS = ("backprop", "finite_differences")
LABELS = {"backprop": "backpropagation", "finite_differences": "finite differences"}


# ---------------------------------------------------------------- counting


def layer_sizes(params):
    """[n_0, n_1, ..., n_L] of a params dict {"W1", "b1", ..., "WL", "bL"}."""
    depth = sum(1 for key in params if key.startswith("W"))
    return [int(np.shape(params["W1"])[1])] + [int(np.shape(params[f"W{l}"])[0]) for l in range(1, depth + 1)]


def count_work(sizes, examples):
    """The work of one full gradient of a dense net with layer sizes [n_0, ..., n_L] on `examples` columns.

    Returns a dict: parameters W, forward_multiply_adds F = N sum n_l n_{l-1},
    backward_multiply_adds 2F, and per method its forward passes, backward passes
    and multiply-adds: backprop 1, 1, 3F; finite_differences 2W, 0, 2W F.
    """
    sizes = [int(n) for n in sizes]
    pairs = list(zip(sizes[1:], sizes[:-1]))  # (n_l, n_{l-1}) for l = 1..L
    weights = sum(n * m for n, m in pairs)
    parameters = weights + sum(n for n, _ in pairs)
    forward = int(examples) * weights
    return {
        "sizes": sizes, "examples": int(examples), "parameters": parameters,
        "forward_multiply_adds": forward, "backward_multiply_adds": 2 * forward,
        "backprop": {"forward_passes": 1, "backward_passes": 1, "multiply_adds": 3 * forward},
        "finite_differences": {"forward_passes": 2 * parameters, "backward_passes": 0, "multiply_adds": 2 * parameters * forward},
    }  # fmt: skip


def growth_exponent(W, cost):
    """The slope of the least-squares line through (log W, log cost)."""
    return float(np.polyfit(np.log(np.asarray(W, dtype=float)), np.log(np.asarray(cost, dtype=float)), 1)[0])


# ---------------------------------------------------------------- timing


def timing_fit(W, repeats):
    """A growth exponent for measured times, or the reason the measurements do not support one.

    Inputs: W, the parameter counts of the networks; repeats, for each network the list of
    its timed repeats (seconds). Fits log(median time) = a + k log W by least squares.
    Returns (k, standard error of k, None) when all of these hold, else (None, None, reason):
    - at least FIT_MIN_SIZES sizes;
    - every size's repeats agree: interquartile range <= FIT_MAX_SPREAD of the median
      (a busy machine makes repeats disagree, and then no fit is trustworthy);
    - the median times span at least FIT_MIN_TIME_RANGE (over a narrow range, noise decides the slope);
    - the points lie on one line: standard error of the slope <= FIT_MAX_SLOPE_ERROR
      (fixed overheads and caches bend the curve; then no single exponent describes it).
    """
    W = np.asarray(W, dtype=float)
    samples = [np.asarray(r, dtype=float) for r in repeats]
    if len(W) != len(samples):
        raise ValueError("timing_fit needs one list of repeats per size")
    if len(W) < FIT_MIN_SIZES:
        return None, None, f"too few sizes: {len(W)} (a fit needs at least {FIT_MIN_SIZES})"
    if any(s.size == 0 or not np.all(np.isfinite(s)) or np.any(s <= 0) for s in samples):
        return None, None, "a size has no usable time (a fit needs positive, finite times)"
    medians = np.array([np.median(s) for s in samples])
    spreads = np.array([(np.percentile(s, 75) - np.percentile(s, 25)) / np.median(s) for s in samples])
    worst = int(np.argmax(spreads))
    if spreads[worst] > FIT_MAX_SPREAD:
        return None, None, (f"too noisy: the repeats at W = {W[worst]:,.0f} spread by {spreads[worst]:.0%} of their median "
                            f"(a fit needs at most {FIT_MAX_SPREAD:.0%} at every size)")  # fmt: skip
    span = medians.max() / medians.min()
    if span < FIT_MIN_TIME_RANGE:
        return None, None, f"too narrow: the times span only a factor of {span:.1f} (a fit needs at least {FIT_MIN_TIME_RANGE:g})"
    x, y = np.log(W), np.log(medians)
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    residuals = y - y.mean() - slope * dx
    error = float(np.sqrt((residuals @ residuals) / (len(x) - 2) / (dx @ dx)))
    if error > FIT_MAX_SLOPE_ERROR:
        return None, None, (f"not one power law: the points leave the log-log line (slope {slope:.2f} ± {error:.2f}, "
                            f"a fit needs ± {FIT_MAX_SLOPE_ERROR:g} at most): load, fixed overheads or caches bend it")  # fmt: skip
    return slope, error, None


def _timed(fn, repeats, inner=None):
    """Seconds per call of fn, once per repeat. inner: calls per repeat; None means a warm-up
    call first, then enough calls per repeat to last MIN_REPEAT_SECONDS."""
    if inner is None:
        tic = _clock()
        fn()
        first = max(_clock() - tic, 1e-9)
        inner = min(1000, max(1, math.ceil(MIN_REPEAT_SECONDS / first)))
    times = []
    for _ in range(repeats):
        tic = _clock()
        for _ in range(inner):
            fn()
        times.append((_clock() - tic) / inner)
    return times


def _spread(times):
    times = np.asarray(times, dtype=float)
    middle = np.median(times)
    return (np.percentile(times, 75) - np.percentile(times, 25)) / middle if middle > 0 else float("inf")


# ---------------------------------------------------------------- the demo


def gradient_cost(forward, backward, softmax_cross_entropy, widths=(32, 64, 128, 256, 512), examples=512, sampled=20, seed=0, repeats=TIMING_REPEATS):
    """Finite differences against backpropagation: do they agree, and what does each cost?

    Inputs:
    - forward, backward, softmax_cross_entropy: your functions.
    - widths: hidden widths H of 64-H-10 digits networks for the cost study.
    - examples: columns of the digits training set used for the cost study (N).
    - sampled: parameters perturbed per width when timing finite differences.
    - repeats: timed repeats per measurement (the median is shown).

    Part 1, the digits network 64-H-10 (H = config.DIGITS["hidden_units"], ReLU
    hidden layer, softmax cross-entropy) on a batch of config.DIGITS["batch_size"]
    digits: every one of its W parameters is nudged by ±config.FD_STEP, and the
    centred differences are compared with one forward and one backward pass. The
    forward passes each method makes are counted as your forward runs.
    Part 2, the cost as W grows, counted: per width, the multiply-adds of one full
    gradient by each method (count_work: backprop 3F, finite differences 2W F, with
    F = N sum n_l n_{l-1} the multiply-adds of one forward pass) and their growth
    exponents, 1 and 2. Then timed, as a second opinion: medians of `repeats`
    repeats (finite differences timed on `sampled` parameters and scaled up to all
    W), with a fitted exponent only where timing_fit says the timings support one.
    Prints both parts and plots the counted work (left) and the times (right) on
    log-log axes. Returns a dict of the numbers.
    """
    with _one_thread():
        return _gradient_cost(forward, backward, softmax_cross_entropy, widths, examples, sampled, seed, repeats)


def _gradient_cost(forward, backward, softmax_cross_entropy, widths, examples, sampled, seed, repeats):
    cfg = config.DIGITS
    X_train, Y_train, _, _ = load_digits_split()
    acts = ["relu", "identity"]
    passes = {"forward": 0, "backward": 0}

    def counted_forward(*args):
        passes["forward"] += 1
        return forward(*args)

    def counted_backward(*args):
        passes["backward"] += 1
        return backward(*args)

    def loss_of(params, X, Y):
        A_out, _ = counted_forward(X, params, acts)
        return softmax_cross_entropy(A_out, Y)[0]

    def backprop(params, X, Y):
        A_out, caches = counted_forward(X, params, acts)
        _, dZ_out = softmax_cross_entropy(A_out, Y)
        return counted_backward(dZ_out, caches, params, acts)

    def run_counting(fn):
        passes.update(forward=0, backward=0)
        result = fn()
        return result, dict(passes)

    # Part 1: the whole gradient, both ways, with the passes counted as they run
    X, Y = X_train[:, : cfg["batch_size"]], Y_train[:, : cfg["batch_size"]]
    params = init_params([X.shape[0], cfg["hidden_units"], Y.shape[0]], seed=cfg["init_seed"])
    work = count_work(layer_sizes(params), X.shape[1])
    count = work["parameters"]
    grads, ran_bp = run_counting(lambda: backprop(params, X, Y))
    every = [(k, i) for k in params for i in range(np.size(params[k]))]
    numeric, ran_fd = run_counting(lambda: _finite_differences(loss_of, params, X, Y, every))
    part1_bp = float(np.median(_timed(lambda: backprop(params, X, Y), repeats)))
    part1_fd = float(np.median(_timed(lambda: _finite_differences(loss_of, params, X, Y, every), min(repeats, 3), inner=1)))
    exact = np.concatenate([np.asarray(grads[k], dtype=float).ravel() for k in params])
    approx = np.concatenate([numeric[k].ravel() for k in params])
    rel = np.linalg.norm(exact - approx) / max(np.linalg.norm(exact) + np.linalg.norm(approx), 1e-300)
    fd, bp = work["finite_differences"], work["backprop"]
    net = "-".join(str(n) for n in work["sizes"])
    lines = [
        f"Digits network {net} (ReLU), W = {count:,} parameters, a batch of N = {X.shape[1]} digits;",
        f"one forward pass is F = N * sum(n_l n_(l-1)) = {work['forward_multiply_adds']:,} multiply-adds.",
        f"  finite differences: {fd['forward_passes']:,} forward passes   2W F = {fd['multiply_adds']:>13,} multiply-adds   {part1_fd * 1e3:9.2f} ms",
        f"  backpropagation:    1 forward + 1 backward   3F = {bp['multiply_adds']:>13,} multiply-adds   {part1_bp * 1e3:9.2f} ms",
        f"  counted as they ran: your forward ran {ran_fd['forward']:,} times for finite differences, "
        f"{ran_bp['forward']} + {ran_bp['backward']} backward for backpropagation",
        f"  work ratio 2W/3 = {fd['multiply_adds'] / bp['multiply_adds']:,.0f}; time ratio {part1_fd / max(part1_bp, 1e-12):,.0f} (medians of {repeats} and {min(repeats, 3)} runs)",
        f"  relative difference between the two gradients: {rel:.1e}",
        "  (A backward pass is 2F: per layer BP3's δ A_prevᵀ and BP2's Wᵀ δ, each as big as the forward's W A_prev.)",
    ]

    # Part 2: how the costs grow with W, counted, then timed
    rng = np.random.default_rng(seed)
    X, Y = X_train[:, :examples], Y_train[:, :examples]
    rows = []
    for H in widths:
        params = init_params([X.shape[0], H, Y.shape[0]], seed=seed)
        work = count_work(layer_sizes(params), X.shape[1])
        W = work["parameters"]
        bp_times = _timed(lambda: backprop(params, X, Y), repeats)
        keys = list(params)
        picks = [(k, int(rng.integers(np.size(params[k])))) for k in rng.choice(keys, size=sampled)]
        t_some = _timed(lambda: _finite_differences(loss_of, params, X, Y, picks), repeats)
        rows.append({"H": int(H), "work": work, "backprop": bp_times, "finite_differences": [t / sampled * W for t in t_some]})
    W = np.array([r["work"]["parameters"] for r in rows], dtype=float)
    counted = {m: np.array([r["work"][m]["multiply_adds"] for r in rows], dtype=float) for m in METHODS}
    count_exponents = {m: growth_exponent(W, counted[m]) for m in METHODS} if len(rows) > 1 else {m: float("nan") for m in METHODS}
    medians = {m: np.array([np.median(r[m]) for r in rows]) for m in METHODS}
    fits = {m: dict(zip(("exponent", "error", "reason"), timing_fit(W, [r[m] for r in rows]))) for m in METHODS}

    N = X.shape[1]
    lines += ["", f"Cost as the network grows: {X.shape[0]}-H-{Y.shape[0]} on N = {N} digits. Counted work of one full gradient:"]
    lines.append(f"  {'H':>5} {'W':>8} {'FD passes':>10} {'backprop mult-adds':>19} {'FD mult-adds':>19} {'ratio 2W/3':>11}")
    for r in rows:
        w = r["work"]
        b, f = w["backprop"]["multiply_adds"], w["finite_differences"]["multiply_adds"]
        lines.append(f"  {r['H']:>5} {w['parameters']:>8,} {w['finite_differences']['forward_passes']:>10,} {b:>19,} {f:>19,} {f / b:>11,.0f}")
    lines.append(f"  counted growth: backprop ~ W^{count_exponents['backprop']:.2f}, finite differences ~ W^{count_exponents['finite_differences']:.2f}"
                 "   (the lecture's table: W and W²)")  # fmt: skip
    lines += ["", f"Measured time, second opinion (median of {repeats} repeats, one thread; finite differences timed on {sampled} parameters, scaled to all W):"]
    lines.append(f"  {'H':>5} {'W':>8} {'backprop':>12} {'finite diff.':>14} {'ratio':>9}   spread of repeats (bp, FD)")
    for r, t_bp, t_fd in zip(rows, medians["backprop"], medians["finite_differences"]):
        lines.append(f"  {r['H']:>5} {r['work']['parameters']:>8,} {t_bp * 1e3:>9.2f} ms {t_fd:>12.2f} s {t_fd / max(t_bp, 1e-12):>9,.0f}"
                     f"   {_spread(r['backprop']):>4.0%}, {_spread(r['finite_differences']):>4.0%}")  # fmt: skip
    lines.append(f"  growth fitted to the times, only if the repeats agree within {FIT_MAX_SPREAD:.0%}, the times span {FIT_MIN_TIME_RANGE:g}x or more")
    lines.append(f"  and the log-log slope is known to ±{FIT_MAX_SLOPE_ERROR:g}:")
    for m in METHODS:
        fit = fits[m]
        if fit["exponent"] is None:
            lines.append(f"    {LABELS[m]:<19} no exponent: {fit['reason']}")
        else:
            lines.append(f"    {LABELS[m]:<19} ~ W^{fit['exponent']:.2f} ± {fit['error']:.2f}")
    lines.append("  Times also carry fixed overheads and cache effects that the counts leave out: the counts above are the lecture's W and W².")
    print("\n".join(lines))
    _show(_cost_figure(W, counted, count_exponents, rows, medians, fits))
    return {
        "relative_difference": float(rel), "fd_seconds": part1_fd, "backprop_seconds": part1_bp,
        "passes_counted": {"backprop": ran_bp, "finite_differences": ran_fd},
        "rows": rows, "count_exponents": count_exponents, "timing_fits": fits,
    }  # fmt: skip


def _cost_figure(W, counted, count_exponents, rows, medians, fits):
    plt = _pyplot()
    colour = {"backprop": "#4e79a7", "finite_differences": "#e15759"}
    marker = {"backprop": "s-", "finite_differences": "o-"}
    what = {"backprop": "1 forward + 1 backward = 3F", "finite_differences": "2W forward passes = 2W F"}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.4), gridspec_kw={"width_ratios": [1.15, 1]})
    for m in METHODS:
        left.loglog(W, counted[m], marker[m], color=colour[m], lw=2, label=f"{LABELS[m]}: {what[m]}  (slope {count_exponents[m]:.2f})")
    left.loglog(W, counted["finite_differences"][0] * (W / W[0]) ** 2, ":", color="k", lw=1, label="∝ W² and ∝ W, through the first point")
    left.loglog(W, counted["backprop"][0] * (W / W[0]), ":", color="k", lw=1)
    left.set_xlabel("number of parameters W")
    left.set_ylabel("multiply-adds for one full gradient (counted)")
    left.set_title("Counted work: exact, the same on every machine")
    left.grid(alpha=0.3, which="both")
    left.legend(fontsize=8, loc="upper left")
    for m in METHODS:
        times = [np.asarray(r[m]) for r in rows]
        low = medians[m] - np.array([t.min() for t in times])
        high = np.array([t.max() for t in times]) - medians[m]
        fit = fits[m]
        label = f"{LABELS[m]}: " + (f"fitted W^{fit['exponent']:.2f}" if fit["exponent"] is not None else "no exponent fitted")
        right.errorbar(W, medians[m], yerr=[low, high], fmt=marker[m], color=colour[m], lw=1.5, alpha=0.8, capsize=3, label=label)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("number of parameters W")
    right.set_ylabel("seconds (median; bars: fastest to slowest repeat)")
    right.set_title("Measured time: a second opinion, with noise")
    right.grid(alpha=0.3, which="both")
    right.legend(fontsize=8, loc="upper left")
    fig.suptitle("The cost of one gradient: finite differences ~ W², backpropagation ~ W")
    fig.tight_layout()
    return fig


def _finite_differences(loss_of, params, X, Y, picks):
    """Centred differences (J(θ + h) - J(θ - h)) / 2h for the (key, flat index) entries in picks."""
    h = config.FD_STEP
    work = {k: np.array(v, dtype=float, copy=True) for k, v in params.items()}
    numeric = {k: np.zeros_like(v) for k, v in work.items()}
    for key, i in picks:
        flat = work[key].reshape(-1)  # a view: changing flat changes work[key]
        keep = flat[i]
        flat[i] = keep + h
        up = loss_of(work, X, Y)
        flat[i] = keep - h
        down = loss_of(work, X, Y)
        flat[i] = keep
        numeric[key].reshape(-1)[i] = (up - down) / (2 * h)
    return numeric
