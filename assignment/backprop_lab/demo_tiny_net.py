"""The lecture's tiny ReLU network, with sliders in Jupyter and a static table everywhere else.

demos.explore_tiny_relu_net is the entry point. It always prints a few of the lecture's slider
settings side by side, so that a static view (an HTML export, a viewer without widgets) shows
real numbers; in a live Jupyter kernel with ipywidgets the sliders follow.
"""

import numpy as np

from backprop_lab.demo_plumbing import _live_frontend, once_filled_in

# The tiny ReLU network of the lecture: the sliders' ranges and starting values.
SLIDER_RANGE = (-2.0, 2.0, 0.1)  # min, max, step
SLIDER_DEFAULTS = {"x1": 1.0, "x2": -1.0, "w11": 0.5, "w21": -0.5, "w_out": 1.0}
TINY_NET_TARGET = 1.0

# Slider settings shown in the static table: the lecture's start (there y = 1 hits the target, so
# J and every gradient are 0), then the two moves the notebook suggests: lower w_out to 0.5, then
# make w11 negative enough that the ReLU switches off.
LECTURE_SETTINGS = [
    ("the lecture's start", dict(SLIDER_DEFAULTS)),
    ("w_out lowered to 0.5", {**SLIDER_DEFAULTS, "w_out": 0.5}),
    ("then w11 lowered to -1.0", {**SLIDER_DEFAULTS, "w_out": 0.5, "w11": -1.0}),
]
SLIDERS_NOTE = (
    "Sliders appear in Jupyter: run this cell in a live notebook with ipywidgets to move x1, x2, w11, w21 "
    "and w_out yourself. A static view (an HTML export, a viewer without widgets) shows only the settings above."
)

_FORWARD_ROWS = [
    ("z_h", "w11 x1 + w21 x2", "z_h"),
    ("h", "relu(z_h)", "h"),
    ("y", "w_out h", "y"),
    ("J", "½ (y - 1)²", "J"),
]
_BACKWARD_ROWS = [
    ("δ_y = ∂J/∂y", "y - 1                 (BP1)", "delta_y"),
    ("∂J/∂w_out", "δ_y h                 (BP3)", "dw_out"),
    ("δ_h = ∂J/∂z_h", "w_out δ_y relu′(z_h)  (BP2)", "delta_h"),
    ("∂J/∂w11", "δ_h x1                (BP3)", "dw11"),
    ("∂J/∂w21", "δ_h x2                (BP3)", "dw21"),
]
_GRADIENTS = [key for _, _, key in _BACKWARD_ROWS]


def explore_tiny_relu_net(forward, backward, mse_loss, show_gradients=True, **values):
    """The lecture's tiny network, h = relu(w11 x1 + w21 x2), y = w_out h, J = ½ (y - 1)².

    Inputs:
    - forward, backward, mse_loss: your functions. The network is
      params W1 = [[w11, w21]] (1, 2), b1 = 0 (1, 1), W2 = [[w_out]] (1, 1),
      b2 = 0 (1, 1), activations ["relu", "identity"], X = [[x1], [x2]] (2, 1)
      and target Y = [[1]] (1, 1).
    - show_gradients: also list every gradient (the lecture's toggle).
    - values: starting values for x1, x2, w11, w21, w_out (defaults: the lecture's).

    Always prints a static table, side by side: the starting values, then the
    lecture's other settings (LECTURE_SETTINGS), each with its forward values and
    gradients, and a note on any setting whose gradients are all zero. At the
    lecture's start y = 1 is already the target, so J = 0 and every gradient is 0:
    that is why the other settings are there. In a live Jupyter kernel with
    ipywidgets the five sliders and the toggle follow, redrawing one setting's
    table as you move them. With one example (N = 1), BP4 says δ^(l) = ∂J/∂b^(l),
    so the error signals δ_h and δ_y are read off backward's db1 and db2.
    Returns the text of the static table.
    """
    start = {**SLIDER_DEFAULTS, **values}
    unknown = set(start) - set(SLIDER_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown slider(s) {sorted(unknown)}: use {list(SLIDER_DEFAULTS)}")
    settings = [("your starting values" if values else LECTURE_SETTINGS[0][0], start)]
    settings += [(label, v) for label, v in LECTURE_SETTINGS if v != start]
    text = _settings_table(forward, backward, mse_loss, settings, show_gradients) + "\n\n" + SLIDERS_NOTE
    print(text)
    if _live_frontend():
        try:
            import ipywidgets as widgets
        except ImportError:
            print("(ipywidgets is not installed, so no sliders here: call again with other values, e.g. w_out=0.5.)")
        else:
            _tiny_net_widgets(widgets, forward, backward, mse_loss, start, show_gradients)
    else:
        print("(No live Jupyter frontend: call again with other values, e.g. w_out=0.5, to explore.)")
    return text


def _tiny_net_values(forward, backward, mse_loss, v):
    """Every forward value and gradient of the tiny network, from your functions."""
    X = np.array([[v["x1"]], [v["x2"]]])
    Y = np.array([[TINY_NET_TARGET]])
    first = {"W1": np.array([[v["w11"], v["w21"]]]), "b1": np.zeros((1, 1))}
    params = {**first, "W2": np.array([[v["w_out"]]]), "b2": np.zeros((1, 1))}
    activations = ["relu", "identity"]
    z_h, _ = forward(X, first, ["identity"])  # the hidden pre-activation: layer 1 without its ReLU
    h, _ = forward(X, first, ["relu"])
    y_hat, caches = forward(X, params, activations)
    loss, dJ_dy = mse_loss(y_hat, Y)
    grads = backward(dJ_dy, caches, params, activations)
    scalar = lambda a: float(np.asarray(a, dtype=float).reshape(-1)[0])  # noqa: E731
    return {
        "z_h": scalar(z_h), "h": scalar(h), "y": scalar(y_hat), "J": scalar(loss),
        "delta_y": scalar(grads["b2"]), "dw_out": scalar(grads["W2"]),
        "delta_h": scalar(grads["b1"]), "dw11": float(np.ravel(grads["W1"])[0]), "dw21": float(np.ravel(grads["W1"])[1]),
    }  # fmt: skip


def _setting_line(v):
    return "  ".join(f"{k} = {v[k]:+.1f}" for k in SLIDER_DEFAULTS)


def _settings_table(forward, backward, mse_loss, settings, show_gradients):
    """Several slider settings side by side: one column of values per setting."""
    results = [_tiny_net_values(forward, backward, mse_loss, v) for _, v in settings]
    tags = [f"({chr(ord('a') + i)})" for i in range(len(settings))]
    lines = ["Tiny ReLU network: h = relu(w11 x1 + w21 x2), y = w_out h, target 1, J = ½ (y - 1)²", ""]
    lines += [f"  {tag} {_setting_line(v)}   {label}" for tag, (label, v) in zip(tags, settings)]
    width = 44
    head = "".join(f"{tag:>10}" for tag in tags)

    def block(title, rows):
        lines.append("")
        lines.append(f"  {title:<16}{'formula':<{width - 16}}{head}")
        for name, formula, key in rows:
            lines.append(f"  {name:<16}{formula:<{width - 16}}" + "".join(f"{r[key]:>+10.3f}" for r in results))

    block("forward", _FORWARD_ROWS)
    if show_gradients:
        block("backward", _BACKWARD_ROWS)
    notes = []
    for tag, r in zip(tags, results):
        if r["z_h"] <= 0:
            notes.append(f"  {tag} z_h <= 0: the ReLU is off (h = 0), so no gradient reaches w11, w21 or w_out, whatever the loss.")
        elif all(abs(r[k]) < 1e-12 for k in ("J", *_GRADIENTS)):
            notes.append(f"  {tag} y = 1 is the target: J = 0 and every gradient is 0, so gradient descent leaves this setting alone.")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)


def _tiny_net_table(forward, backward, mse_loss, v, show_gradients):
    """The table of one setting: what the widget redraws as the sliders move."""
    r = _tiny_net_values(forward, backward, mse_loss, v)
    rows = [f"Tiny ReLU network   {_setting_line(v)}", "", f"  {'forward':<16}{'formula':<34}value"]
    rows += [f"  {name:<16}{formula:<34}{r[key]:+.3f}" for name, formula, key in _FORWARD_ROWS]
    if show_gradients:
        rows += ["", f"  {'backward':<16}{'formula':<34}value"]
        rows += [f"  {name:<16}{formula:<34}{r[key]:+.3f}" for name, formula, key in _BACKWARD_ROWS]
        if r["z_h"] <= 0:
            rows.append("  z_h <= 0: the ReLU is off, so no gradient reaches w11 and w21.")
    return "\n".join(rows)


def _tiny_net_widgets(widgets, forward, backward, mse_loss, start, show_gradients):
    lo, hi, step = SLIDER_RANGE
    sliders = {
        name: widgets.FloatSlider(value=start[name], min=lo, max=hi, step=step, description=name, continuous_update=True)
        for name in SLIDER_DEFAULTS
    }
    toggle = widgets.ToggleButton(value=show_gradients, description="Show gradients (backward pass)", layout={"width": "260px"})
    out = widgets.Output()

    def redraw(*_):
        values = {name: s.value for name, s in sliders.items()}
        with out:
            out.clear_output(wait=True)
            with once_filled_in():
                print(_tiny_net_table(forward, backward, mse_loss, values, toggle.value))

    for control in [*sliders.values(), toggle]:
        control.observe(redraw, names="value")
    redraw()
    from IPython.display import display

    display(widgets.VBox([widgets.HBox([widgets.VBox(list(sliders.values())), toggle]), out]))
