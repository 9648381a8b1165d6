"""Demos for the notebook: they run YOUR functions and show what they compute.

Nothing here is a solution. Every demo takes the functions you wrote as
arguments and uses only them and the helpers, so a demo is only as right as
your code: if a plot looks wrong, look at the function it calls.

Notation (as in the course): W^(l) has shape (n_l, n_{l-1}), b^(l) has shape
(n_l, 1), and examples are columns, so X is (n_0, N) and Y is (n_L, N).

One function per demo:
- once_filled_in()         a context manager: an unfinished stub prints which function to fill in
- plot_activations         each activation and its derivative (after question 3)
- trace_worked_example     the chapter's 2-3-1 example, number by number (after question 6)
- explore_tiny_relu_net    the lecture's one-neuron ReLU network, with sliders (after question 6;
                           the code is in demo_tiny_net.py)
- xor_experiment           a linear model against 2-H-1 networks on XOR (after question 8)
- digits_experiment        64-32-10 networks on handwritten digits
- gradient_flow            the size of delta^(l) layer by layer in deep networks
- gradient_cost            finite differences against backpropagation: agreement and cost,
                           counted and timed (the code is in demo_cost.py)

The shared plumbing (once_filled_in, figures, widgets) is in demo_plumbing.py.
"""

import time

import numpy as np

from backprop_lab import config
from backprop_lab.demo_cost import gradient_cost  # noqa: F401  (the cost demo lives in its own module)
from backprop_lab.demo_plumbing import COLOURS, FILL_IN_FIRST, _live_frontend, _one_thread, _out, _pyplot, _show, once_filled_in  # noqa: F401
from backprop_lab.demo_tiny_net import SLIDER_DEFAULTS, SLIDER_RANGE, TINY_NET_TARGET, _tiny_net_values, explore_tiny_relu_net  # noqa: F401
from backprop_lab.helpers import accuracy, init_params, load_digits_split, load_worked_example, load_xor

__all__ = [
    "once_filled_in", "FILL_IN_FIRST", "plot_activations", "trace_worked_example", "explore_tiny_relu_net",
    "xor_experiment", "digits_experiment", "gradient_flow", "gradient_cost",
    "SLIDER_DEFAULTS", "SLIDER_RANGE", "TINY_NET_TARGET", "CHAPTER", "COLOURS",
]  # fmt: skip

# The numbers the chapter prints for its worked example (section 16.5), with the
# number of decimals it prints them to.
CHAPTER = {
    "z1": ([0.377500, 0.392500, 0.407500], 6),
    "a1": ([0.593270, 0.596884, 0.600488], 6),
    "z2": ([1.406150], 6),
    "a2": ([0.803158], 6),
    "loss": ([0.314550], 6),
    "dJ/da2": ([0.793158], 6),
    "sigma'(z2)": ([0.158095], 6),
    "delta2": ([0.125394], 6),
    "W2^T delta2": ([0.050158, 0.056428, 0.062697], 6),
    "sigma'(z1)": ([0.241301, 0.240613, 0.239902], 6),
    "delta1": ([0.012103, 0.013577, 0.015041], 6),
    "dW2": ([0.074393, 0.074846, 0.075298], 6),
    "dW1": ([0.00060516, 0.00121031, 0.00067886, 0.00135772, 0.00075206, 0.00150412], 8),
    "db2": ([0.125394], 6),
    "db1": ([0.012103, 0.013577, 0.015041], 6),
}


# ---------------------------------------------------------------- activations


def plot_activations(pairs, z_range=(-5.0, 5.0)):
    """Plot each activation and its derivative, the derivative taken by your backward.

    Inputs:
    - pairs: {name: (forward, backward)}, e.g. {"sigmoid": (sigmoid_forward, sigmoid_backward)}.
      forward(Z) -> A and backward(dA, Z) -> dZ, both element-wise.
    - z_range: the interval of z to plot.

    With dA = 1 everywhere, backward(dA, Z) returns the derivative sigma'(Z)
    itself. Z is passed as one row of shape (1, 401). Prints each derivative's
    largest value and where it is reached. Returns {name: max derivative}.
    """
    Z = np.linspace(z_range[0], z_range[1], 401).reshape(1, -1)
    curves = {}
    for name, (fwd, bwd) in pairs.items():
        A = np.asarray(fwd(Z), dtype=float).ravel()
        dZ = np.asarray(bwd(np.ones_like(Z), Z), dtype=float).ravel()
        curves[name] = (A, dZ)
    z = Z.ravel()
    peaks = {}
    for name, (_, dZ) in curves.items():
        i = int(np.argmax(dZ))
        peaks[name] = float(dZ[i])
        print(f"{name:>8}: largest derivative {dZ[i]:.4f}, first reached at z = {z[i]:+.3f}")

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(4.2 * len(curves), 3.4), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (name, (A, dZ)) in zip(axes, curves.items()):
        ax.plot(z, A, color=COLOURS.get(name, "C0"), lw=2.5, label=f"{name}(z)")
        ax.plot(z, dZ, color="#e15759", lw=2, ls="--", label=f"{name}'(z), from your backward")
        ax.axhline(0, color="k", lw=0.5, alpha=0.3)
        ax.axvline(0, color="k", lw=0.5, alpha=0.3)
        if name == "sigmoid":
            ax.axhline(0.25, color="#e15759", lw=1, ls=":", alpha=0.8)
            ax.annotate("max derivative 0.25", xy=(0, 0.25), xytext=(-4.8, 0.42), color="#e15759",
                        arrowprops={"arrowstyle": "->", "color": "#e15759"})
        ax.set_title(name)
        ax.set_xlabel("z (pre-activation)")
        ax.set_ylim(-1.5, 1.5)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle("Activations and their derivatives")
    fig.tight_layout()
    _show(fig)
    return peaks


# ---------------------------------------------------------------- the worked example


def trace_worked_example(dense_forward, sigmoid_forward, mse_loss, sigmoid_backward, dense_backward, show=True):
    """The chapter's 2-3-1 worked example, computed with your building blocks.

    The network: x = (0.05, 0.10), y = 0.01, sigmoid hidden and output layers,
    loss 1/2 (a - y)^2 (helpers.load_worked_example gives the weights).
    Forward: z1 = dense_forward(x, W1, b1) (3, 1), a1 = sigmoid_forward(z1),
    z2 = dense_forward(a1, W2, b2) (1, 1), a2 = sigmoid_forward(z2), then
    mse_loss(a2, y). Backward: BP1 with sigmoid_backward, BP2, BP3 and BP4 with
    dense_backward and sigmoid_backward.

    Every number is printed in the chapter's layout, next to the value the
    chapter prints and whether the two agree to the chapter's decimals.
    Returns the text (and prints it when show is True).
    """
    X, Y, params, _ = load_worked_example()
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    x, y = X.ravel(), float(Y[0, 0])

    # forward pass, with your functions (columns, as the contract says)
    Z1 = dense_forward(X, W1, b1)  # (3, 1)
    A1 = sigmoid_forward(Z1)
    Z2 = dense_forward(A1, W2, b2)  # (1, 1)
    A2 = sigmoid_forward(Z2)
    loss, dJ_dA2 = mse_loss(A2, Y)

    # backward pass, with your functions
    slope2 = sigmoid_backward(np.ones_like(Z2), Z2)  # sigma'(z2): the backward of an upstream 1
    delta2 = sigmoid_backward(dJ_dA2, Z2)  # BP1
    pulled_back, dW2, db2 = dense_backward(delta2, A1, W2)  # W2^T delta2 (BP2's product), BP3, BP4
    slope1 = sigmoid_backward(np.ones_like(Z1), Z1)
    delta1 = sigmoid_backward(pulled_back, Z1)  # BP2
    _, dW1, db1 = dense_backward(delta1, X, W1)  # BP3, BP4

    # flat copies for printing; a wrong size is reported by name
    z1, a1 = _flat(Z1, 3, "dense_forward(x, W1, b1)"), _flat(A1, 3, "sigmoid_forward(z1)")
    z2, a2 = _flat(Z2, 1, "dense_forward(a1, W2, b2)"), _flat(A2, 1, "sigmoid_forward(z2)")
    dJ_da2 = _flat(dJ_dA2, 1, "mse_loss(...)[1]")
    slope2, delta2 = _flat(slope2, 1, "sigmoid_backward(1, z2)"), _flat(delta2, 1, "sigmoid_backward(dJ/da2, z2)")
    pulled_back = _flat(pulled_back, 3, "dense_backward(delta2, a1, W2)[0]")
    slope1, delta1 = _flat(slope1, 3, "sigmoid_backward(1, z1)"), _flat(delta1, 3, "sigmoid_backward(W2^T delta2, z1)")
    dW2, db2 = _flat(dW2, 3, "dense_backward(delta2, a1, W2)[1]"), _flat(db2, 1, "dense_backward(delta2, a1, W2)[2]")
    dW1, db1 = _flat(dW1, 6, "dense_backward(delta1, x, W1)[1]").reshape(3, 2), _flat(db1, 3, "dense_backward(delta1, x, W1)[2]")

    lines, verdicts = [], []

    def row(text, value, key, k):
        printed, decimals = CHAPTER[key]
        agree = abs(value - printed[k]) <= 0.5 * 10.0**-decimals + 1e-12
        verdicts.append(agree)
        mark = "✓" if agree else "✗ differs"
        lines.append(f"  {text:<58} = {value:.{decimals}f}   chapter {printed[k]:.{decimals}f}  {mark}")

    def head(text):
        lines.append("")
        lines.append(text)

    lines.append(f"{'FORWARD PASS':<62} {'yours':<12} {'the chapter'}")
    head("Layer 1 pre-activation z^(1) = W^(1) x + b^(1):")
    for i in range(3):
        row(f"z^(1)_{i + 1} = {W1[i, 0]:.2f}*{x[0]:.2f} + {W1[i, 1]:.2f}*{x[1]:.2f} + {b1[i, 0]:.2f}", z1[i], "z1", i)
    head("Layer 1 activation a^(1) = σ(z^(1)):")
    for i in range(3):
        row(f"a^(1)_{i + 1} = σ({z1[i]:.6f})", a1[i], "a1", i)
    head("Layer 2 pre-activation z^(2) = W^(2) a^(1) + b^(2):")
    terms = " + ".join(f"{W2[0, j]:.2f}*{a1[j]:.4f}" for j in range(3))
    row(f"z^(2) = {terms} + {b2[0, 0]:.2f}", z2[0], "z2", 0)
    head(f"Output and loss (target y = {y}):")
    row(f"a^(2) = σ({z2[0]:.6f})", a2[0], "a2", 0)
    row(f"J = ½ ({a2[0]:.6f} - {y})²", float(loss), "loss", 0)

    lines.append("")
    lines.append("BACKWARD PASS")
    head("BP1  δ^(2) = ∂J/∂a^(2) ⊙ σ'(z^(2)):")
    row(f"∂J/∂a^(2) = a^(2) - y = {a2[0]:.6f} - {y}", dJ_da2[0], "dJ/da2", 0)
    row(f"σ'(z^(2)) = σ(z^(2)) (1 - σ(z^(2)))", slope2[0], "sigma'(z2)", 0)
    row(f"δ^(2) = {dJ_da2[0]:.6f} * {slope2[0]:.6f}", delta2[0], "delta2", 0)
    head("BP2  δ^(1) = (W^(2)ᵀ δ^(2)) ⊙ σ'(z^(1)):")
    for i in range(3):
        row(f"(W^(2)ᵀ δ^(2))_{i + 1} = {W2[0, i]:.2f} * {delta2[0]:.6f}", pulled_back[i], "W2^T delta2", i)
    for i in range(3):
        row(f"σ'(z^(1)_{i + 1}) = σ'({z1[i]:.6f})", slope1[i], "sigma'(z1)", i)
    for i in range(3):
        row(f"δ^(1)_{i + 1} = {pulled_back[i]:.6f} * {slope1[i]:.6f}", delta1[i], "delta1", i)
    head("BP3  ∂J/∂W^(2) = δ^(2) (a^(1))ᵀ  and  ∂J/∂W^(1) = δ^(1) xᵀ:")
    for j in range(3):
        row(f"∂J/∂W^(2)_1,{j + 1} = {delta2[0]:.6f} * {a1[j]:.6f}", dW2[j], "dW2", j)
    for i in range(3):
        for j in range(2):
            row(f"∂J/∂W^(1)_{i + 1},{j + 1} = {delta1[i]:.6f} * {x[j]:.2f}", dW1[i, j], "dW1", 2 * i + j)
    head("BP4  ∂J/∂b^(l) = δ^(l):")
    row("∂J/∂b^(2) = δ^(2)", db2[0], "db2", 0)
    for i in range(3):
        row(f"∂J/∂b^(1)_{i + 1} = δ^(1)_{i + 1}", db1[i], "db1", i)

    lines.append("")
    wrong = verdicts.count(False)
    if wrong:
        lines.append(f"{wrong} of {len(verdicts)} numbers differ from the chapter: look at the first ✗ above.")
    else:
        lines.append(f"All {len(verdicts)} numbers agree with the chapter.")
    return _out("\n".join(lines), show)


def _flat(value, n, what):
    """value as a flat float array of n entries; a clear message if its size is wrong."""
    flat = np.asarray(value, dtype=float).reshape(-1)
    if flat.size != n:
        raise ValueError(f"{what} should give {n} number(s), got shape {np.shape(value)}")
    return flat


# ---------------------------------------------------------------- XOR


def xor_experiment(train, forward, hidden=tuple(config.XOR["seeds"])):
    """A linear model fails on XOR; a network with one hidden layer succeeds.

    Inputs:
    - train, forward: your functions.
    - hidden: the hidden activations to try.

    The linear model is one sigmoid unit, 2-1 (W1 (1, 2), b1 (1, 1)): its
    decision boundary is a straight line, and no line separates XOR's classes.
    The networks are 2-H-1 with H = config.XOR["hidden_units"], each hidden
    activation, a sigmoid output, MSE, and config.XOR's learning rate and epochs.
    Prints each model's accuracy and outputs, and plots the loss curves and the
    decision boundaries (where the output crosses 0.5). Returns {model: accuracy}.
    """
    X, Y = load_xor()
    cfg = config.XOR
    models = {"linear": ([2, 1], ["sigmoid"], 0)}
    for name in hidden:
        models[name] = ([2, cfg["hidden_units"], 1], [name, "sigmoid"], cfg["seeds"].get(name, 0))
    results = {}
    with _one_thread():
        for name, (sizes, acts, seed) in models.items():
            params, history = train(X, Y, init_params(sizes, seed=seed), acts, "mse", cfg["learning_rate"], cfg["epochs"])
            out, _ = forward(X, params, acts)
            results[name] = (params, acts, list(history), accuracy(out, Y), np.asarray(out).ravel())
    H = cfg["hidden_units"]
    for name, (_, _, history, acc, out) in results.items():
        label = "linear 2-1" if name == "linear" else f"2-{H}-1 {name}"
        print(f"{label:>14}: accuracy {acc:4.0%}, final loss {history[-1]:.4f}, outputs {np.round(out, 2)} for targets {Y.ravel()}")

    plt = _pyplot()
    fig = plt.figure(figsize=(13, 6.2))
    grid = fig.add_gridspec(2, len(results), height_ratios=[1, 1.25])
    ax = fig.add_subplot(grid[0, :])
    for name, (_, _, history, _, _) in results.items():
        ax.plot(np.arange(1, len(history) + 1), history, color=COLOURS.get(name), lw=2, label="linear 2-1" if name == "linear" else f"2-{H}-1, {name}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss J (MSE)")
    ax.set_title("XOR: training loss")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    g = np.linspace(-0.5, 1.5, 121)
    G1, G2 = np.meshgrid(g, g)
    points = np.vstack([G1.ravel(), G2.ravel()])  # (2, 121*121): one grid point per column
    for k, (name, (params, acts, _, acc, _)) in enumerate(results.items()):
        ax = fig.add_subplot(grid[1, k])
        surface, _ = forward(points, params, acts)
        surface = np.asarray(surface, dtype=float).reshape(G1.shape)
        ax.contourf(G1, G2, surface, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.75)
        ax.contour(G1, G2, surface, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(X[0], X[1], c=Y.ravel(), cmap="RdBu_r", vmin=0, vmax=1, s=90, edgecolors="k")
        ax.set_title(f"{'linear 2-1' if name == 'linear' else name}: {acc:.0%} right", fontsize=10)
        ax.set_aspect("equal")
        ax.set_xticks([0, 1])
        ax.set_yticks([0, 1])
    fig.tight_layout()
    _show(fig)
    return {name: r[3] for name, r in results.items()}


# ---------------------------------------------------------------- digits


def digits_experiment(train, forward, activations=config.DIGITS["activations"]):
    """64-H-10 networks on the 8x8 digits, trained with your train.

    Inputs:
    - train, forward: your functions.
    - activations: the hidden activations to compare.

    Data: helpers.load_digits_split(), X (64, N) and one-hot Y (10, N). Each
    network has H = config.DIGITS["hidden_units"] hidden units of one activation
    and an "identity" output trained with "softmax_ce", with config.DIGITS's
    learning rate, epochs, batch size and seeds. Prints the test accuracy of
    each, and plots the learning curves, the test accuracies, the confusion
    matrix of the best network and a gallery of the test digits it gets wrong.
    Returns {activation: test accuracy}.
    """
    cfg = config.DIGITS
    X_train, Y_train, X_test, Y_test = load_digits_split()
    runs = {}
    for name in activations:
        acts = [name, "identity"]
        start = init_params([X_train.shape[0], cfg["hidden_units"], Y_train.shape[0]], seed=cfg["init_seed"])
        tic = time.perf_counter()
        with _one_thread():
            params, history = train(X_train, Y_train, start, acts, "softmax_ce", cfg["learning_rate"], cfg["epochs"], cfg["batch_size"], cfg["shuffle_seed"])
        seconds = time.perf_counter() - tic
        scores, _ = forward(X_test, params, acts)  # (10, N_test) logits
        runs[name] = {"history": list(history), "scores": np.asarray(scores), "accuracy": accuracy(scores, Y_test), "seconds": seconds}
        print(f"{name:>8}: test accuracy {runs[name]['accuracy']:.1%} ({X_test.shape[1]} test digits), trained in {seconds:.1f} s")
    best = max(runs, key=lambda n: runs[n]["accuracy"])
    truth = Y_test.argmax(axis=0)
    guess = runs[best]["scores"].argmax(axis=0)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (truth, guess), 1)
    wrong = np.flatnonzero(truth != guess)
    print(f"best: {best}; it gets {wrong.size} of {truth.size} test digits wrong")

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.0), gridspec_kw={"width_ratios": [1.3, 0.8, 1.1]})
    for name, run in runs.items():
        axes[0].plot(np.arange(1, len(run["history"]) + 1), run["history"], color=COLOURS.get(name), lw=2, label=name)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("training loss (cross-entropy)")
    axes[0].set_title("Learning curves")
    axes[0].grid(alpha=0.3, which="both")
    axes[0].legend()
    names = list(runs)
    bars = axes[1].bar(names, [runs[n]["accuracy"] for n in names], color=[COLOURS.get(n) for n in names])
    axes[1].bar_label(bars, labels=[f"{runs[n]['accuracy']:.1%}" for n in names])
    axes[1].axhline(cfg["min_test_accuracy"], color="k", ls=":", lw=1)
    axes[1].set_ylim(min(0.8, min(runs[n]["accuracy"] for n in names) - 0.02), 1.0)
    axes[1].set_title("Test accuracy")
    axes[2].imshow(confusion, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if confusion[i, j]:
                axes[2].text(j, i, confusion[i, j], ha="center", va="center", fontsize=7, color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    axes[2].set_xticks(range(10))
    axes[2].set_yticks(range(10))
    axes[2].set_xlabel("predicted")
    axes[2].set_ylabel("true")
    axes[2].set_title(f"Confusion matrix ({best})")
    fig.tight_layout()
    _show(fig)

    shown = wrong[:16]
    if shown.size:
        fig, axes = plt.subplots(1, shown.size, figsize=(0.9 * shown.size + 0.5, 1.5), squeeze=False)
        for ax, i in zip(axes[0], shown):
            ax.imshow(X_test[:, i].reshape(8, 8), cmap="gray_r")
            ax.set_title(f"{truth[i]}→{guess[i]}", fontsize=9, color="#e15759")
            ax.axis("off")
        fig.suptitle(f"Test digits the {best} network gets wrong (true→predicted)", fontsize=10)
        fig.tight_layout()
        _show(fig)
    return {name: run["accuracy"] for name, run in runs.items()}


# ---------------------------------------------------------------- gradient flow


def gradient_flow(forward, backward, mse_loss, depth=10, width=32, scale=None, seed=0, slider=False):
    """How big the error signal delta^(l) is in each layer of a deep network.

    Inputs:
    - forward, backward, mse_loss: your functions.
    - depth: number of layers L; width: units per layer (the input has width too).
    - scale: the initial weights' standard deviation, the knob to turn. None
      means init_params's default 1/sqrt(n_{l-1}).
    - slider: in a live Jupyter kernel, also show a slider for scale.

    For each of sigmoid, tanh and ReLU: a net of L layers of that activation
    (the last layer "identity"), one random example x (width, 1) and target
    y (width, 1), MSE. With one example (N = 1), BP4 gives delta^(l) = db^(l),
    so ||delta^(l)|| is the norm of your backward's grads["b{l}"].
    Prints and plots ||delta^(l)|| for l = 1..L on a log scale. Returns
    {activation: [||delta^(1)||, ..., ||delta^(L)||]}.
    """
    norms = _delta_norms(forward, backward, mse_loss, depth, width, scale, seed)
    print(_flow_table(norms, scale, width))
    _show(_flow_figure(norms, scale, width))
    if slider and _live_frontend():
        try:
            import ipywidgets as widgets
        except ImportError:
            print("(ipywidgets is not installed: change scale=... and run again.)")
        else:
            knob = widgets.FloatLogSlider(value=scale or 1 / np.sqrt(width), base=10, min=-1.5, max=0.5, step=0.05, description="scale", readout_format=".3f")
            out = widgets.Output()

            def redraw(*_):
                with out:
                    out.clear_output(wait=True)
                    with once_filled_in():
                        _show(_flow_figure(_delta_norms(forward, backward, mse_loss, depth, width, knob.value, seed), knob.value, width))

            knob.observe(redraw, names="value")
            from IPython.display import display

            display(widgets.VBox([knob, out]))
    return norms


def _delta_norms(forward, backward, mse_loss, depth, width, scale, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((width, 1))
    Y = rng.standard_normal((width, 1))
    params = init_params([width] * (depth + 1), seed=seed, scale=scale)
    norms = {}
    for name in ("sigmoid", "tanh", "relu"):
        acts = [name] * (depth - 1) + ["identity"]
        A_out, caches = forward(X, params, acts)
        _, dA_out = mse_loss(A_out, Y)
        grads = backward(dA_out, caches, params, acts)
        norms[name] = [float(np.linalg.norm(grads[f"b{l}"])) for l in range(1, depth + 1)]
    return norms


def _flow_table(norms, scale, width):
    depth = len(next(iter(norms.values())))
    what = f"{scale:g}" if scale is not None else f"1/sqrt({width}) = {1 / np.sqrt(width):.3f}"
    lines = [f"||δ^(l)|| per layer, weights drawn with standard deviation {what}:", ""]
    lines.append("  layer " + "".join(f"{name:>12}" for name in norms))
    for l in range(depth):
        lines.append(f"  {l + 1:>5} " + "".join(f"{norms[name][l]:>12.2e}" for name in norms))
    ratios = "   ".join(f"{name} {norms[name][0] / norms[name][-1]:.1e}" if norms[name][-1] else f"{name} n/a" for name in norms)
    lines.append("")
    lines.append(f"  ||δ^(1)|| / ||δ^(L)||:   {ratios}")
    return "\n".join(lines)


def _flow_figure(norms, scale, width):
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for name, values in norms.items():
        layers = np.arange(1, len(values) + 1)
        ax.semilogy(layers, np.maximum(values, 1e-300), "o-", color=COLOURS.get(name), lw=2, label=name)
    ax.set_xlabel("layer l (1 = next to the input)")
    ax.set_ylabel(r"$\Vert\delta^{(l)}\Vert$  (log scale)")
    what = f"{scale:.3g}" if scale is not None else f"1/√{width}"
    ax.set_title(f"Gradient flow in a {len(values)}-layer network, initial weight scale {what}")
    ax.set_xticks(layers)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    return fig
