"""Feedback polish: what a student reads is first ours, cut between words, free of signed zeros and
of relative errors that mean nothing, consistent with itself, rounded to cents, and it names the
numerical warnings a student's function raised (advice, no points lost)."""

import io
import json
import re
import sys
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import nbformat
import numpy as np
import pytest

from backprop_kit.grade import grade_file
from backprop_kit.hidden_checks import all_cases, diagnose, local_caller, which_oracle
from backprop_lab import config
from backprop_lab.checking import CheckFailure, first_problem, summary_table
from backprop_lab.expectations import expect_array, expect_float
from backprop_lab.grader_checks import check, summary
from backprop_lab.feedback import number, shorten

from conftest import REPO, grade_cli, notebook_from_cells, results

sys.path.insert(0, str(Path(__file__).resolve().parent))
from planted import BUGS  # noqa: E402

REFERENCE_SOURCE = (REPO / "solutions" / "reference.py").read_text()
HEADER = "import numpy as np\nfrom backprop_lab.helpers import *"
FULL = sum(a + b for a, b in config.POINTS.values())
TEXTBOOK_SIGMOID = "def sigmoid_forward(Z):\n    return 1 / (1 + np.exp(-Z))\n"
WRONG_SIGMOID_BACKWARD = "def sigmoid_backward(dA, Z):\n    return dA * sigmoid_forward(Z)\n"
# a signed zero as a number prints it: -0, -0., -0.00, -0e+00 (and not -0.5 or -0.01)
SIGNED_ZERO = re.compile(r"(?<![\w.])-0(?:\.0*)?(?:e[+-]?\d+)?(?![\w.])")


def namespace(*functions):
    ns = {}
    exec(HEADER, ns)
    exec(REFERENCE_SOURCE, ns)
    for source in functions:
        exec(source, ns)
    return ns


def failure(thunk):
    with pytest.raises(CheckFailure) as info:
        thunk()
    return str(info.value)


def relative_errors_shown(text):
    return [float(x) for x in re.findall(r"relative error (?:of )?([0-9.]+(?:e[+-]?\d+)?)", text)]


# -- 1. under a failing grader.check, our report comes first ----------------------------------------


@pytest.fixture(scope="module")
def handout_run(kit, tmp_path_factory):
    """A notebook of the handout's init cell and sigmoid cells, run by a Jupyter kernel in the unpacked student.zip."""
    from nbclient import NotebookClient

    folder = tmp_path_factory.mktemp("handout")
    with zipfile.ZipFile(kit["dist"] / "student.zip") as archive:
        archive.extractall(folder)
    handout = nbformat.read(folder / "backprop.ipynb", as_version=4)
    init = next(c.source for c in handout.cells if c.cell_type == "code" and "otter.Notebook" in c.source)
    right_backward = "def sigmoid_backward(dA, Z):\n    s = sigmoid_forward(Z)\n    return dA * s * (1 - s)\n"
    sources = [init, "import numpy as np", TEXTBOOK_SIGMOID + WRONG_SIGMOID_BACKWARD, "grader.check('sigmoid')",
               TEXTBOOK_SIGMOID + right_backward, "grader.check('sigmoid')"]
    nb = nbformat.v4.new_notebook(metadata=handout.metadata)
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return nb.cells[3].outputs, nb.cells[5].outputs


def shown_text(output):
    """What Jupyter shows for one output: a stream's text, or a result's HTML (else its plain text)."""
    if output["output_type"] == "stream":
        return output["text"]
    data = output.get("data", {})
    return re.sub(r"<[^>]+>", "", data.get("text/html", "")) or data.get("text/plain", "")


def test_under_a_failing_grader_check_the_first_line_is_our_report_and_otters_wrapper_follows(handout_run):
    outputs, _ = handout_run
    first_line = next(line for line in shown_text(outputs[0]).splitlines() if line.strip())
    assert first_line.startswith("sigmoid: ") and "checks passed" in first_line, first_line
    assert outputs[0]["output_type"] == "stream" and outputs[0]["name"] == "stdout"
    assert "Error at line" not in shown_text(outputs[0])
    everything = "\n".join(shown_text(o) for o in outputs)
    assert everything.index("sigmoid_backward → dZ") < everything.index("Error at line")  # otter's lines come after ours
    assert everything.count("largest absolute error") == 3  # the report is shown once, not again in otter's block


# -- 8. a numerical warning is named, as advice, and costs nothing ----------------------------------


def test_grader_check_names_a_numerical_warning_as_advice_and_still_passes(handout_run):
    _, outputs = handout_run
    text = "\n".join(shown_text(o) for o in outputs)
    assert [o["output_type"] for o in outputs] == ["stream", "execute_result"], outputs  # no stderr: the raw warning became advice
    assert "All test cases passed" in outputs[1]["data"]["text/plain"]  # otter's verdict, after ours
    assert "Advice" in text and "RuntimeWarning: overflow encountered in exp" in text and "sigmoid_forward" in text


def test_check_prints_advice_for_a_warning_without_failing_and_nothing_for_clean_code():
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        check("sigmoid", namespace(TEXTBOOK_SIGMOID))  # no AssertionError: its values are right
    assert "overflow encountered in exp" in buffer.getvalue() and "costs no points" in buffer.getvalue()
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        check("sigmoid", namespace())
    assert buffer.getvalue() == ""


# -- 2. no word is cut -----------------------------------------------------------------------------


def cut_at_a_word_boundary(shown, original):
    """`shown` is `original` cut with an ellipsis where a word ends (before a space or punctuation)."""
    assert shown.endswith("…"), shown
    kept = shown[:-1]
    assert original.startswith(kept), (shown, original)
    return original[len(kept)] in " ,;:(-"



def test_the_summary_table_cuts_a_long_first_thing_to_fix_between_words_with_an_ellipsis():
    stub = 'def sigmoid_forward(Z):\n    raise NotImplementedError("sigmoid_forward: return 1 / (1 + exp(-Z)), arranged so that exp never overflows for large |z|")\n'
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        summary(namespace(stub))
    row = next(line for line in buffer.getvalue().splitlines() if line.startswith("sigmoid"))
    shown = re.split(r"\d+/\d+\s+", row, maxsplit=1)[1]
    from backprop_lab.public_checks import PUBLIC
    from backprop_lab.callers import LocalCaller
    from backprop_lab.checking import run_cases
    from backprop_lab.public_hints import public_diagnose

    original = first_problem(run_cases(PUBLIC["sigmoid"], LocalCaller(namespace(stub)), 0, public_diagnose))
    assert len(original) > 110
    assert cut_at_a_word_boundary(shown, original), shown


def test_shorten_keeps_short_text_and_never_splits_a_word():
    text = "alpha beta gamma delta epsilon"
    assert shorten(text, 100) == text
    for width in range(6, len(text)):
        shown = shorten(text, width)
        assert len(shown) <= width and cut_at_a_word_boundary(shown, text), (width, shown)
    table = summary_table([("dense", 1, 3, "x" * 30 + " " + "y" * 200)])
    assert "y" not in table and "x" * 30 + "…" in table


# -- 3. numbers: no signed zeros, relative errors only where they mean something ---------------------


def test_number_never_writes_a_signed_zero():
    assert [number(-0.0), number(-0.0, ".6g"), number(-1e-9, ".2f"), number(-0.0, ".2e")] == ["0", "0", "0.00", "0.00e+00"]
    assert number(-0.5) == "-0.5" and number(-1e-9) == "-1e-09" and number(float("-inf")) == "-inf"


def test_feedback_shows_no_signed_zero_in_tables_or_chapter_values():
    outcomes = run_visible_and_hidden("relu", BUGS["relu_backward_times_output"]["functions"]["relu_backward"])
    text = "\n".join(o.message for o in outcomes)
    assert "yours" in text and not SIGNED_ZERO.search(text), SIGNED_ZERO.search(text)
    # expected -0 against actual -0 and 1: nothing is written as -0
    message = failure(lambda: expect_array("f → A", np.array([[-0.0, 1.0, -0.0]]), np.array([[-0.0, 0.0, 0.0]]), 1e-7))
    assert not SIGNED_ZERO.search(message), message


def run_visible_and_hidden(question, *functions, seed=3):
    from backprop_lab.checking import run_cases

    visible, hidden = all_cases()[question]
    return run_cases(visible + hidden, local_caller(namespace(*functions)), seed, diagnose=diagnose)


def test_no_relative_error_is_shown_where_the_expected_value_is_zero():
    # sigmoid'(±1000) is 0: a backward that returns dA is off by |dA|, and no relative error means anything there
    message = failure(lambda: expect_array("sigmoid_backward → dZ", np.array([[0.7, -1.3]]), np.array([[0.0, -0.0]]), 1e-7))
    assert relative_errors_shown(message) == [], message
    assert "0 here" in message and "where the expected value is 0" in message
    # an entry that should be 0 among others that are not: the relative error is over the others only
    message = failure(lambda: expect_array("relu_backward → dZ", np.array([[2.0, 1.0]]), np.array([[2.0, 0.0]]), 1e-7))
    assert all(e <= 1 for e in relative_errors_shown(message)), message
    assert "where the expected value is 0" in message


def test_a_wildly_wrong_answer_is_described_in_words_not_by_a_huge_relative_error():
    want = np.array([[1.0, -2.0, 0.5]])
    for got in (1000 * want, -want, np.zeros_like(want)):
        message = failure(lambda: expect_array("f → A", got, want, 1e-7))
        assert all(e <= 1 for e in relative_errors_shown(message)), message
        assert "relative error 1.00e+00" not in message
    assert "1e+03 times the expected value" in failure(lambda: expect_array("f → A", 1000 * want, want, 1e-7))
    assert "opposite sign" in failure(lambda: expect_array("f → A", -want, want, 1e-7))
    shape = failure(lambda: expect_array("f → A", np.ones((3, 1)), want, 1e-7))
    assert "expected shape (1, 3), got shape (3, 1)" in shape and "relative error" not in shape
    assert "relative error" not in failure(lambda: expect_float("mse_loss → J", 7.0, 0.0, 1e-7))
    assert "relative error" in failure(lambda: expect_float("mse_loss → J", 1.25 * (1 + 1e-3), 1.25, 1e-7))  # a near miss keeps it


def test_a_near_miss_keeps_its_relative_error():
    want = np.array([[1.0, -2.0, 0.5]])
    message = failure(lambda: expect_array("f → A", want * (1 + 1e-4), want, 1e-7))
    shown = relative_errors_shown(message)
    assert shown and all(5e-5 <= e <= 1e-4 for e in shown), message  # norm-wise 5e-5, entry-wise 1e-4


# -- 7. the oracles never contradict the checks above them ------------------------------------------


@pytest.mark.parametrize("bug_id", [b for b in sorted(BUGS) if BUGS[b]["question"] in ("sigmoid", "tanh", "relu", "dense")])
def test_an_oracles_line_never_blames_a_forward_that_passed_or_a_backward_that_agrees_with_it(bug_id):
    question = BUGS[bug_id]["question"]
    for seed in range(3):
        outcomes = run_visible_and_hidden(question, *BUGS[bug_id]["functions"].values(), seed=seed)
        forward_failed = any(not o.passed and "forward" in o.title.split()[0] for o in outcomes)
        for o in outcomes:
            for line in (line.strip() for line in o.message.splitlines() if "Oracles:" in line):
                if not forward_failed:
                    assert "your forward disagrees" not in line and "forward bug" not in line, (seed, o.title, line)


def test_the_relu_convention_mistake_is_not_called_a_gradient_bug():
    # dA * (Z >= 0) equals dA * (Z > 0) wherever Z != 0: it agrees with finite differences of relu there
    outcomes = run_visible_and_hidden("relu", BUGS["relu_backward_ge_zero"]["functions"]["relu_backward"])
    lines = [line for o in outcomes for line in o.message.splitlines() if "Oracles:" in line]
    assert lines and not any("disagrees with your own forward" in line or "gradient bug" in line for line in lines), lines
    assert all("Z is exactly 0" in line for line in lines), lines


def test_finite_differences_that_disagree_with_a_forward_that_passed_are_not_used_against_it():
    want = np.array([[1.0, 2.0]])
    fd = lambda: np.array([[5.0, 5.0]])  # noqa: E731 - finite differences gone wrong (a kink, rounding)
    assert which_oracle(np.array([[1.0, 3.0]]), want, fd, forward_passed=True) is None
    assert "forward" in which_oracle(np.array([[1.0, 3.0]]), want, fd, forward_passed=False)


# -- 6. no seed for a file that is not a notebook ---------------------------------------------------


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"cells": 3}'])
def test_a_malformed_file_gets_no_hidden_test_seed_line(tmp_path, content):
    path = tmp_path / "backprop.ipynb"
    path.write_bytes(content)
    result = grade_file(path, seed=1234)
    assert result["extra_data"]["status"] == "malformed"
    assert "seed" not in result["output"].lower() and "1234" not in result["output"], result["output"]
    assert result["output"].startswith("Status: malformed.")


# -- 4, 5, 8: graded through the autograder --------------------------------------------------------


# a right sigmoid whose warnings try to write lines of the grader's own (found by an attack)
FORGING_SIGMOID = """import warnings
def sigmoid_forward(Z):
    warnings.warn("x.\\n  [ok  ] forged line\\u2028Status: ok. 80/80\\u202e", RuntimeWarning)
    warnings.warn("y", type("All test cases passed!\\nStatus", (RuntimeWarning,), {}))
    return np.exp(-np.logaddexp(0.0, -Z))
"""
# a right tanh whose student turned numerical warnings into errors, and catches them
STRICT_TANH = """import warnings
warnings.simplefilter("error", RuntimeWarning)
def tanh_forward(Z):
    try:
        E = np.exp(2 * Z)
        return (E - 1) / (E + 1)
    except RuntimeWarning:
        return np.tanh(Z)
"""


@pytest.fixture(scope="module")
def graded(kit, tmp_path_factory):
    folder = tmp_path_factory.mktemp("polish")
    base = [HEADER, REFERENCE_SOURCE]
    notebook_from_cells(folder / "clean.ipynb", base)
    notebook_from_cells(folder / "cell-errors.ipynb", base + ["raise ValueError('oops')", "x = undefined_name"])
    notebook_from_cells(folder / "textbook.ipynb", base + [TEXTBOOK_SIGMOID])
    notebook_from_cells(folder / "thirds.ipynb", base + list(BUGS["relu_backward_ge_zero"]["functions"].values()))
    notebook_from_cells(folder / "forged-warning.ipynb", base + [FORGING_SIGMOID])
    notebook_from_cells(folder / "strict-filter.ipynb", base + [STRICT_TANH])
    out = folder / "out"
    proc, rows = grade_cli([folder], out, kit["dist"] / "autograder.zip", "--seed", "11")
    assert proc.returncode == 0, proc.stderr
    return out, rows


def status_line(result):
    return next(line for line in result["output"].splitlines() if line.startswith("Status:"))


def test_the_status_line_and_the_notebook_report_agree(graded):
    out, _ = graded
    errors = results(out, "cell-errors")
    assert "Notebook cells with problems" in errors["output"]
    assert "without problems" not in status_line(errors), status_line(errors)
    assert "2 code cells raised an error" in status_line(errors)
    clean = results(out, "clean")
    assert "without problems" in status_line(clean) and "Notebook cells with problems" not in clean["output"]


def test_scores_in_results_have_two_decimals_and_the_total_is_their_sum(graded):
    out, rows = graded
    result = results(out, "thirds")
    scores = [t["score"] for t in result["tests"]]
    assert any(s != int(s) for s in scores)  # a third of a check's points: the rounding is exercised
    for s in scores + [result["score"]]:
        assert s == round(s, 2), s
    assert result["score"] == round(sum(scores), 2)
    row = rows["thirds.ipynb"]
    for question in config.QUESTIONS:
        assert float(row[question]) == round(float(row[question]), 2), row
    assert float(row["total"]) == result["score"]


def test_the_autograder_names_a_numerical_warning_as_advice_and_keeps_full_marks(graded):
    out, rows = graded
    result = results(out, "textbook")
    assert result["score"] == FULL and float(rows["textbook.ipynb"]["total"]) == FULL
    sigmoid = "\n".join(t["output"] for t in result["tests"] if t["name"].startswith("sigmoid"))
    assert "Advice (costs no points)" in sigmoid and "RuntimeWarning: overflow encountered in exp" in sigmoid
    visible = next(t for t in result["tests"] if t["name"] == "sigmoid (visible)")
    assert "overflow encountered in exp" in visible["output"]
    clean = json.dumps(results(out, "clean"))
    assert "Advice" not in clean and "RuntimeWarning" not in clean


def test_a_warnings_text_cannot_add_lines_to_a_report(graded):
    out, _ = graded
    result = results(out, "forged-warning")
    assert result["score"] == FULL
    for test in result["tests"]:
        for line in test["output"].splitlines():
            assert "forged line" not in line or line.lstrip().startswith("Advice"), line
            assert "\u2028" not in line and "\u202e" not in line
    advice = [line for t in result["tests"] for line in t["output"].splitlines() if "All test cases passed" in line]
    assert all(line.lstrip().startswith("Advice") for line in advice), advice


def test_the_students_own_warning_filters_are_kept_during_the_checks(graded):
    out, _ = graded
    assert results(out, "strict-filter")["score"] == FULL


def test_plain_warning_is_one_line_with_a_category_that_is_a_name():
    from backprop_lab.feedback import plain_warning

    assert plain_warning("RuntimeWarning: overflow encountered in exp") == "RuntimeWarning: overflow encountered in exp"
    flat = plain_warning("All test cases passed!\nStatus: x.\u2028[ok  ] y\u202e")
    assert flat.startswith("RuntimeWarning: ") and "\n" not in flat and "\u2028" not in flat and "\u202e" not in flat
    assert len(plain_warning("RuntimeWarning: " + "z " * 500)) <= 160


def test_no_relative_error_of_zero_when_every_error_is_where_the_expected_value_is_zero():
    message = failure(lambda: expect_array("relu_backward → dZ", np.array([[2.0, 1.0]]), np.array([[2.0, 0.0]]), 1e-7))
    assert "relative error 0" not in message, message


def test_percentages_never_use_an_exponent():
    from backprop_lab.feedback import error_table

    table = error_table(np.array([[1.996, 2.0]]), np.array([[1.0, 2.0]]) * np.array([[1.0, 1.0]]))
    near = error_table(np.array([[0.004, 2.0]]), np.array([[1.0, 2.0]]))
    assert "e+" not in table and "e+" not in near, (table, near)
    assert "99.6 %" in near, near
