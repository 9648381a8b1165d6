"""Gradient flow: the size of delta^(l) layer by layer in deep networks, with a slider for the weights' scale (demos.gradient_flow)."""

import numpy as np

from backprop_lab.demo_plumbing import COLOURS, _live_frontend, _pyplot, _show, once_filled_in
from backprop_lab.helpers import init_params


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
