"""The notebook students learn from: its teaching cells, its demos and how it renders.

- the worked-example trace agrees with the chapter's printed numbers (written here as
  literals, independent of demos.py's own table) and flags a wrong function;
- the demos' small pieces (the tiny ReLU network, gradient flow, the friendly message);
- the built dist/solutions.ipynb holds every demo with its outputs, and the written questions;
- the untouched student template runs top to bottom without an uncaught error, and each demo
  cell says which function to fill in first;
- the executed solutions, exported to HTML, render in headless Chromium with every figure.
"""

import base64
import io
import json
import re
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backprop_lab import demos
from conftest import chromium_dom

REPO = Path(__file__).resolve().parents[1]
MASTER = REPO / "assignment" / "backprop.ipynb"

# Section 16.5 of the chapter, in the order the trace prints them: (printed value, decimals).
CHAPTER_NUMBERS = [
    ("0.377500", "z1_1"), ("0.392500", "z1_2"), ("0.407500", "z1_3"),
    ("0.593270", "a1_1"), ("0.596884", "a1_2"), ("0.600488", "a1_3"),
    ("1.406150", "z2"), ("0.803158", "a2"), ("0.314550", "loss"),
    ("0.793158", "dJ/da2"), ("0.158095", "sigma'(z2)"), ("0.125394", "delta2"),
    ("0.050158", "W2^T delta2 _1"), ("0.056428", "W2^T delta2 _2"), ("0.062697", "W2^T delta2 _3"),
    ("0.241301", "sigma'(z1_1)"), ("0.240613", "sigma'(z1_2)"), ("0.239902", "sigma'(z1_3)"),
    ("0.012103", "delta1_1"), ("0.013577", "delta1_2"), ("0.015041", "delta1_3"),
    ("0.074393", "dW2_11"), ("0.074846", "dW2_12"), ("0.075298", "dW2_13"),
    ("0.00060516", "dW1_11"), ("0.00121031", "dW1_12"), ("0.00067886", "dW1_21"),
    ("0.00135772", "dW1_22"), ("0.00075206", "dW1_31"), ("0.00150412", "dW1_32"),
    ("0.125394", "db2"), ("0.012103", "db1_1"), ("0.013577", "db1_2"), ("0.015041", "db1_3"),
]  # fmt: skip
TRACE_ROW = re.compile(r"= (-?\d+\.\d+)\s+chapter (-?\d+\.\d+)\s+(✓|✗)")

# demo call -> (at least this many figures, texts its output must contain)
DEMOS = {
    "demos.plot_activations(": (1, ["largest derivative 0.2500"]),
    "demos.trace_worked_example(": (0, ["FORWARD PASS", "BACKWARD PASS", "BP1", "BP2", "BP3", "BP4", "All 34 numbers agree with the chapter."]),
    "demos.explore_tiny_relu_net(": (0, ["Tiny ReLU network", "(a) x1 = +1.0  x2 = -1.0  w11 = +0.5  w21 = -0.5  w_out = +1.0", "δ_h = ∂J/∂z_h", "∂J/∂w11", "Sliders appear in Jupyter"]),
    "demos.xor_experiment(": (1, ["outputs [0.5 0.5 0.5 0.5] for targets [0. 1. 1. 0.]", "sigmoid: accuracy 100%", "tanh: accuracy 100%", "relu: accuracy 100%"]),
    "demos.digits_experiment(": (2, ["sigmoid: test accuracy", "tanh: test accuracy", "relu: test accuracy", "test digits wrong"]),
    "demos.gradient_flow(": (1, ["||δ^(l)|| per layer", "||δ^(1)|| / ||δ^(L)||"]),
    "demos.gradient_cost(": (1, ["finite differences: 4,820 forward passes", "relative difference between the two gradients", "counted growth: backprop ~ W^1.00, finite differences ~ W^2.00", "growth fitted to the times"]),
}
WRITTEN = ["written_zero_init", "written_vanishing", "written_finite_differences"]


def _reference_blocks(reference):
    r = reference
    return r.dense_forward, r.sigmoid_forward, r.mse_loss, r.sigmoid_backward, r.dense_backward


def _cell_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def _pngs(cell):
    return [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]


def _demo_cell(nb, call):
    hits = [c for c in nb.cells if c.cell_type == "code" and call in c.source]
    assert len(hits) == 1, f"expected one cell calling {call}, found {len(hits)}"
    return hits[0]


# ---------------------------------------------------------------- the worked example


def test_worked_example_trace_with_the_reference_agrees_with_the_chapter(reference):
    text = demos.trace_worked_example(*_reference_blocks(reference), show=False)
    rows = TRACE_ROW.findall(text)
    assert len(rows) == len(CHAPTER_NUMBERS)
    for (computed, chapter_column, mark), (printed, what) in zip(rows, CHAPTER_NUMBERS):
        decimals = len(printed.split(".")[1])
        assert abs(float(computed) - float(printed)) <= 0.5 * 10.0**-decimals + 1e-12, f"{what}: {computed} vs the chapter's {printed}"
        assert chapter_column == printed, f"{what}: the trace shows the chapter's value as {chapter_column}, the chapter prints {printed}"
        assert mark == "✓", what
    assert "All 34 numbers agree with the chapter." in text
    for label in ("z^(1)_1 = 0.15*0.05 + 0.20*0.10 + 0.35", "a^(1)_2 = σ(", "BP1  δ^(2)", "BP2  δ^(1)", "BP3", "BP4", "∂J/∂W^(1)_3,2", "∂J/∂b^(1)_3"):
        assert label in text


def test_worked_example_trace_flags_the_first_wrong_step(reference):
    def sigmoid_backward_at_the_output(dA, Z):  # a classic mistake: sigma' taken at A instead of Z
        A = reference.sigmoid_forward(Z)
        S = reference.sigmoid_forward(A)
        return dA * S * (1 - S)

    blocks = list(_reference_blocks(reference))
    blocks[3] = sigmoid_backward_at_the_output
    text = demos.trace_worked_example(*blocks, show=False)
    marks = [m for _, _, m in TRACE_ROW.findall(text)]
    assert marks[:9] == ["✓"] * 9  # the forward pass and the loss are still right
    assert "✗" in marks and "differ from the chapter" in text


# ---------------------------------------------------------------- the demos' pieces


def test_tiny_relu_net_matches_the_lectures_formulas(reference, capsys):
    from backprop_lab import demo_tiny_net

    r = reference
    cases = {
        # (x1, x2, w11, w21, w_out) -> z_h, h, y, J, dJ/dy, dJ/dw_out, delta_h, dJ/dw11, dJ/dw21
        (1.0, -1.0, 0.5, -0.5, 1.0): (1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
        (1.0, -1.0, 0.5, -0.5, 0.5): (1.0, 1.0, 0.5, 0.125, -0.5, -0.5, -0.25, -0.25, 0.25),
        (1.0, -1.0, -1.0, -0.5, 1.0): (-0.5, 0.0, 0.0, 0.5, -1.0, 0.0, 0.0, 0.0, 0.0),
        (0.3, 1.2, 1.5, 0.4, -2.0): None,
    }
    for (x1, x2, w11, w21, w_out), want in cases.items():
        if want is None:  # the lecture's own formulas
            z_h = w11 * x1 + w21 * x2
            h = max(0.0, z_h)
            y = w_out * h
            d_y = y - 1.0
            d_h = d_y * w_out if z_h > 0 else 0.0
            want = (z_h, h, y, 0.5 * (y - 1) ** 2, d_y, d_y * h, d_h, d_h * x1, d_h * x2)
        values = demo_tiny_net._tiny_net_values(r.forward, r.backward, r.mse_loss, {"x1": x1, "x2": x2, "w11": w11, "w21": w21, "w_out": w_out})
        got = tuple(values[k] for k in ("z_h", "h", "y", "J", "delta_y", "dw_out", "delta_h", "dw11", "dw21"))
        np.testing.assert_allclose(got, want, atol=1e-12)
    text = demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss, w_out=0.5)
    assert "-0.250" in text and "+0.125" in text
    assert "Tiny ReLU network" in capsys.readouterr().out
    with pytest.raises(TypeError):
        demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss, w12=0.1)


def test_tiny_relu_explorer_has_the_lectures_sliders_and_degrades_without_widgets(reference, capsys, monkeypatch):
    import IPython.display
    import ipywidgets

    from backprop_lab import demo_tiny_net

    r = reference
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(demo_tiny_net, "_live_frontend", lambda: True)
    demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss, show_gradients=False)
    (box,) = shown
    sliders, toggle = box.children[0].children[0].children, box.children[0].children[1]
    assert [(s.description, s.min, s.max, s.step, s.value) for s in sliders] == [
        ("x1", -2.0, 2.0, 0.1, 1.0), ("x2", -2.0, 2.0, 0.1, -1.0), ("w11", -2.0, 2.0, 0.1, 0.5),
        ("w21", -2.0, 2.0, 0.1, -0.5), ("w_out", -2.0, 2.0, 0.1, 1.0),
    ]  # fmt: skip
    assert isinstance(toggle, ipywidgets.ToggleButton) and toggle.value is False
    capsys.readouterr()
    sliders[4].value = 0.5  # w_out
    assert "+0.125" in capsys.readouterr().out  # J = ½ (0.5 - 1)²
    toggle.value = True
    assert "∂J/∂w21" in capsys.readouterr().out
    # no ipywidgets: the static table only, and no error
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    text = demos.explore_tiny_relu_net(r.forward, r.backward, r.mse_loss)
    out = capsys.readouterr().out
    assert "ipywidgets is not installed" in out and "Tiny ReLU network" in text and "Sliders appear in Jupyter" in text


def test_gradient_flow_shows_vanishing_sigmoid_gradients_and_uses_db_as_delta(reference):
    from backprop_lab import demo_gradient_flow

    r = reference
    norms = demo_gradient_flow._delta_norms(r.forward, r.backward, r.mse_loss, depth=10, width=32, scale=None, seed=0)
    assert set(norms) == {"sigmoid", "tanh", "relu"} and all(len(v) == 10 for v in norms.values())
    ratio = {name: v[0] / v[-1] for name, v in norms.items()}
    assert ratio["sigmoid"] < 1e-4 < ratio["relu"] and ratio["relu"] < 1 and ratio["tanh"] > ratio["sigmoid"] * 1e3
    # an independent backward for the sigmoid net: delta^(l) by BP1 and BP2
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((32, 1)), rng.standard_normal((32, 1))
    from backprop_lab.helpers import init_params

    params = init_params([32] * 11, seed=0)
    Zs, A = [], X
    for l in range(1, 11):
        Zs.append(params[f"W{l}"] @ A + params[f"b{l}"])
        A = Zs[-1] if l == 10 else 1 / (1 + np.exp(-Zs[-1]))
    delta = A - Y  # identity output, MSE with N = 1
    expected = [np.linalg.norm(delta)]
    for l in range(9, 0, -1):
        s = 1 / (1 + np.exp(-Zs[l - 1]))
        delta = (params[f"W{l + 1}"].T @ delta) * s * (1 - s)
        expected.insert(0, np.linalg.norm(delta))
    np.testing.assert_allclose(norms["sigmoid"], expected, rtol=1e-10)


def test_unfinished_stub_prints_which_function_to_fill_in_and_real_bugs_still_raise(capsys):
    def dense_forward(A_prev, W, b):
        raise NotImplementedError("dense_forward: return W A_prev + b")

    with demos.once_filled_in():
        demos.trace_worked_example(dense_forward, None, None, None, None)
    assert capsys.readouterr().out.strip() == demos.FILL_IN_FIRST.format(name="dense_forward")
    with pytest.raises(ZeroDivisionError):
        with demos.once_filled_in():
            1 / 0


def test_demos_module_holds_no_reference_code():
    from backprop_kit import build

    assert build.leaks({"backprop_lab/demos.py": Path(demos.__file__).read_text()}) == []  # and test_demos checks every demo module


# ---------------------------------------------------------------- the master notebook


def test_master_notebook_states_the_equations_and_every_docstring_names_its_equation():
    nb = nbformat.read(MASTER, as_version=4)
    intro = next(c.source for c in nb.cells if c.cell_type == "markdown")
    for needle in ("## Notation", "**BP1**", "**BP2**", "**BP3**", "**BP4**", "\\delta^{(l)} = \\partial J / \\partial Z^{(l)}"):
        assert needle in intro, needle
    from backprop_kit.build import master_solution_functions

    for name, fn in master_solution_functions(MASTER).items():
        doc = fn.body[0].value.value
        assert re.search(r"BP[1-4]|[Ff]orward pass|theta <-", doc), f"{name}'s docstring names no equation"
        assert re.search(r"shape|\(n_", doc), f"{name}'s docstring gives no shapes"


def test_written_questions_are_otter_manual_questions_with_their_points_from_config():
    from backprop_kit.build import with_written_points
    from backprop_lab import config

    nb = with_written_points(nbformat.read(MASTER, as_version=4))  # what the build hands to otter assign
    configs = [c.source for c in nb.cells if c.cell_type == "raw" and c.source.startswith("# BEGIN QUESTION") and "manual: true" in c.source]
    names = [re.search(r"name: (\S+)", s).group(1) for s in configs]
    assert names == WRITTEN and set(names) == set(config.WRITTEN_POINTS)
    for name, source in zip(names, configs):
        assert f"points: {config.WRITTEN_POINTS[name]}" in source
    master = nbformat.read(MASTER, as_version=4)  # the points live in config only
    assert not any("points:" in c.source for c in master.cells if c.cell_type == "raw")


# ---------------------------------------------------------------- the built solutions notebook


def test_solutions_notebook_shows_every_demo_with_its_outputs(kit):
    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    for call, (figures, texts) in DEMOS.items():
        cell = _demo_cell(nb, call)
        assert "with demos.once_filled_in():" in cell.source
        assert not [o for o in cell.outputs if o.output_type == "error"], call
        assert len(_pngs(cell)) >= figures, f"{call}: {len(_pngs(cell))} figure(s)"
        text = _cell_text(cell)
        for needle in texts:
            assert needle in text, f"{call}: {needle!r} missing from\n{text[:2000]}"
        assert "Fill in `" not in text
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]


def test_solutions_notebook_shows_the_tiny_relu_explorer_statically_beside_its_sliders(kit):
    """The executed notebook had widgets, yet its output holds the static table, with real numbers."""
    from test_demos import assert_static_explorer

    cell = _demo_cell(nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4), "demos.explore_tiny_relu_net(")
    assert_static_explorer(_cell_text(cell))
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)  # the sliders, for Jupyter


def test_demos_sit_after_the_questions_they_need(kit):
    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]

    def where(needle):
        return next(i for i, s in enumerate(code) if needle in s)

    assert where('grader.check("relu")') < where("demos.plot_activations(") < where("def dense_forward")
    assert where('grader.check("network")') < where("demos.trace_worked_example(") < where("def sgd_update")
    assert where('grader.check("network")') < where("demos.explore_tiny_relu_net(") < where("def sgd_update")
    assert where('grader.check("train")') < where("demos.xor_experiment(") < where("demos.digits_experiment(")


def test_solutions_notebook_has_the_written_questions_with_sample_answers(kit):
    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for letter in "ABC":
        assert f"**Written question {letter}** (graded by hand)" in markdown
    assert markdown.count("*Sample answer.*") == 3
    template = nbformat.read(kit["template"], as_version=4)
    student_md = "\n".join(c.source for c in template.cells if c.cell_type == "markdown")
    assert student_md.count("**Written question") == 3
    assert "*Sample answer.*" not in student_md
    assert student_md.count("_Type your answer here, replacing this text._") == 3


# ---------------------------------------------------------------- the untouched template


def _venv_kernel(root):
    """A kernelspec named python3 that runs this interpreter, as the build's execute_solutions does."""
    kernels = Path(root) / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3", "language": "python"}
    (kernels / "kernel.json").write_text(json.dumps(spec))
    return Path(root) / "jupyter"


def test_untouched_template_runs_top_to_bottom_and_its_demos_say_what_to_fill_in(kit, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    run = tmp_path / "run"
    with zipfile.ZipFile(kit["dist"] / "student.zip") as archive:
        archive.extractall(run)
    assert (run / "backprop_lab" / "demos.py").exists()
    nb = nbformat.read(run / "backprop.ipynb", as_version=4)
    assert nbformat.writes(nb) == nbformat.writes(nbformat.read(kit["template"], as_version=4))
    monkeypatch.setenv("JUPYTER_PATH", str(_venv_kernel(tmp_path)))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(run)}}).execute()
    errors = [(c.source.splitlines()[0], o.get("ename")) for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    first = {}
    for call in DEMOS:
        cell = _demo_cell(nb, call)
        text = _cell_text(cell)
        match = re.fullmatch(r"Fill in `(\w+)` first: this demo runs it, and it still raises NotImplementedError\.\n", text)
        assert match, f"{call}: {text!r}"
        assert not _pngs(cell)
        first[call] = match.group(1)
    assert first["demos.plot_activations("] == "sigmoid_forward"
    assert first["demos.trace_worked_example("] == "dense_forward"
    assert first["demos.xor_experiment("] == "train"


# ---------------------------------------------------------------- rendering


def _offline_html(notebook):
    """The notebook as nbconvert's HTML, without the scripts it would load from the web."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    soup = BeautifulSoup(html, "html.parser")
    for script in soup.find_all("script", src=True):
        if re.match(r"https?://", script["src"]):
            script.decompose()
    return str(soup)


def test_solutions_html_renders_every_figure_and_no_error_in_headless_chromium(kit, tmp_path):
    from bs4 import BeautifulSoup
    from PIL import Image

    page = tmp_path / "solutions.html"
    page.write_text(_offline_html(kit["dist"] / "solutions.ipynb"))
    soup = BeautifulSoup(chromium_dom(page, tmp_path), "html.parser")
    shown = {}
    for img in soup.find_all("img"):
        src = img.get("src", "")
        if src.startswith("data:image/png;base64,"):
            data = src.split(",", 1)[1]
            with Image.open(io.BytesIO(base64.b64decode(data))) as picture:
                picture.verify()
                assert picture.size[0] > 100 and picture.size[1] > 50
            shown[re.sub(r"\s", "", data)] = img
    nb = nbformat.read(kit["dist"] / "solutions.ipynb", as_version=4)
    expected = [re.sub(r"\s", "", png) for c in nb.cells for png in _pngs(c)]
    assert len(expected) >= sum(f for f, _ in DEMOS.values())
    missing = [i for i, png in enumerate(expected) if png not in shown]
    assert not missing, f"{len(missing)} of the notebook's {len(expected)} figures are not on the page"
    text = soup.get_text()
    assert not soup.select(".output_error, [data-mime-type='application/vnd.jupyter.error']")
    assert "Traceback" not in text
    assert "All 34 numbers agree with the chapter." in text and "Tiny ReLU network" in text and "Sliders appear in Jupyter" in text
    assert "counted growth: backprop ~ W^1.00, finite differences ~ W^2.00" in text
    assert "Written question C" in text
