"""The chapter's 2-3-1 worked example, number by number, with the student's building blocks (demos.trace_worked_example)."""

import numpy as np

from backprop_lab.demo_plumbing import _out
from backprop_lab.helpers import load_worked_example


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
