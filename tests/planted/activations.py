"""Planted bugs in the activations' questions: sigmoid, tanh and relu."""

from .make import bug

BUGS = {
    # ------------------------------------------------------------------ sigmoid
    "sigmoid_backward_of_output": bug(
        "sigmoid", "sigmoid'(A) = σ(A)(1 − σ(A)) taken of the output A = σ(Z) instead of Z",
        """
def sigmoid_backward(dA, Z):
    A = sigmoid_forward(Z)
    s = sigmoid_forward(A)
    return dA * s * (1 - s)
""",
        named_above=["network", "train"], mentions=["sigmoid_backward", "dZ"], hint="sigmoid-derivative-at-output",
    ),
    "sigmoid_forward_overflow": bug(
        "sigmoid", "e^z / (1 + e^z) overflows to inf / inf = nan for large z",
        """
def sigmoid_forward(Z):
    E = np.exp(Z)
    return E / (1.0 + E)
""",
        named_above=[], mentions=["sigmoid_forward", "nan"], hint="sigmoid-overflow",
    ),
    "sigmoid_backward_missing_dA": bug(
        "sigmoid", "returns σ'(Z) without multiplying by the upstream gradient dA",
        """
def sigmoid_backward(dA, Z):
    s = sigmoid_forward(Z)
    return s * (1 - s)
""",
        named_above=["network", "train"], mentions=["sigmoid_backward", "dZ"], hint="sigmoid-no-upstream",
    ),
    # ------------------------------------------------------------------ tanh
    "tanh_backward_missing_dA": bug(
        "tanh", "returns 1 − tanh²(Z) without multiplying by the upstream gradient dA",
        """
def tanh_backward(dA, Z):
    return 1 - np.tanh(Z) ** 2
""",
        named_above=["network", "train"], mentions=["tanh_backward", "dZ"], hint="tanh-no-upstream",
    ),
    "tanh_backward_uses_Z_as_A": bug(
        "tanh", "1 − A² written with Z in place of A = tanh(Z)",
        """
def tanh_backward(dA, Z):
    return dA * (1 - Z ** 2)
""",
        named_above=["network", "train"], mentions=["tanh_backward", "dZ"], hint=None,
    ),
    "tanh_backward_of_output": bug(
        "tanh", "tanh'(A) = 1 − tanh²(A) taken of the output A = tanh(Z) instead of Z",
        """
def tanh_backward(dA, Z):
    A = np.tanh(Z)
    return dA * (1 - np.tanh(A) ** 2)
""",
        named_above=["network", "train"], mentions=["tanh_backward", "dZ"], hint="tanh-derivative-at-output",
    ),
    "tanh_backward_square_missing": bug(
        "tanh", "1 − tanh(Z) without the square",
        """
def tanh_backward(dA, Z):
    return dA * (1 - np.tanh(Z))
""",
        named_above=["network", "train"], mentions=["tanh_backward", "dZ"], hint="tanh-square-missing",
    ),
    # ------------------------------------------------------------------ relu
    "relu_backward_times_output": bug(
        "relu", "multiplies dA by the output relu(Z) instead of the 0/1 mask",
        """
def relu_backward(dA, Z):
    return dA * relu_forward(Z)
""",
        named_above=["network", "train"], mentions=["relu_backward", "dZ"], hint="relu-output-as-derivative",
    ),
    "relu_backward_ge_zero": bug(
        "relu", "mask Z >= 0: derivative 1 at z = 0, against the course's convention of 0",
        """
def relu_backward(dA, Z):
    return dA * (Z >= 0)
""",
        # The nets of the network and train checks never have a pre-activation of exactly 0.
        named_above=["train"], mentions=["relu_backward", "dZ"], hint="relu-convention-at-zero",
    ),
    "relu_backward_mutates_dA": bug(
        "relu", "zeroes dA in place (dA[Z <= 0] = 0) and returns it",
        """
def relu_backward(dA, Z):
    dA[Z <= 0] = 0
    return dA
""",
        # backward hands relu_backward a fresh dA, so the in-place write harms nothing there.
        named_above=[], mentions=["relu_backward", "in place"], hint=None,  # the check itself says "modified its input"
    ),
    "relu_backward_mask_from_dA": bug(
        "relu", "masks with dA > 0, the upstream gradient, instead of Z > 0",
        """
def relu_backward(dA, Z):
    return np.where(dA > 0, dA, 0.0)
""",
        named_above=["network", "train"], mentions=["relu_backward", "dZ"], hint="relu-mask-from-upstream",
    ),
    "relu_backward_missing_dA": bug(
        "relu", "returns the 0/1 mask relu'(Z) without multiplying by the upstream gradient dA",
        """
def relu_backward(dA, Z):
    return (Z > 0).astype(float)
""",
        named_above=["network", "train"], mentions=["relu_backward", "dZ"], hint="relu-no-upstream",
    ),
}
