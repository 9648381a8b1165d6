"""XOR: a linear model fails where a network with one hidden layer succeeds (demos.xor_experiment)."""

import numpy as np

from backprop_lab import config
from backprop_lab.demo_plumbing import COLOURS, _one_thread, _pyplot, _show
from backprop_lab.helpers import accuracy, init_params, load_xor


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
