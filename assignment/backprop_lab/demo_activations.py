"""Each activation and its derivative, the derivative taken by the student's backward (demos.plot_activations)."""

import numpy as np

from backprop_lab.demo_plumbing import COLOURS, _pyplot, _show


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
