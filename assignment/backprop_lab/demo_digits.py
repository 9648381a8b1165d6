"""Handwritten digits: 64-H-10 networks of each activation, trained with the student's train (demos.digits_experiment)."""

import time

import numpy as np

from backprop_lab import config
from backprop_lab.demo_plumbing import COLOURS, _one_thread, _pyplot, _show
from backprop_lab.helpers import accuracy, init_params, load_digits_split


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
