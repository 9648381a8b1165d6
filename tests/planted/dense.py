"""Planted bugs in the dense layer's question: dense_forward and dense_backward."""

from .make import bug, plant

# One edit of the reference's dense_backward each, one line a bug:
# bug id: (mistake, hint, what the message names besides dense_backward, (old, new)).
_DENSE_BACKWARD = {
    "dense_db_not_summed": ("db = dZ: the bias gradient is not summed over the batch", "db-not-summed", ["db"], ("np.sum(dZ, axis=1, keepdims=True)", "dZ")),
    "dense_db_wrong_axis": ("db summed over axis 0 (the units) instead of axis 1 (the examples)", "db-wrong-axis", ["db"], ("axis=1", "axis=0")),
    "dense_db_no_keepdims": ("db = np.sum(dZ, axis=1) without keepdims: shape (n,) instead of (n, 1)", "db-no-keepdims", ["db", "shape"], (", keepdims=True", "")),
    "dense_dW_missing_transpose": ("dW = dZ @ A_prev without the transpose", None, [], ("A_prev.T", "A_prev")),
    "dense_dW_transposed": ("dW = A_prev @ dZ.T: the transpose of the right dW", "dW-transposed", ["dW", "shape"], ("dZ @ A_prev.T", "A_prev @ dZ.T")),
    "dense_dA_prev_missing_transpose": ("dA_prev = W @ dZ without the transpose", "dA-prev-missing-transpose", [], ("W.T @ dZ", "W @ dZ")),
    "dense_dW_elementwise": ("dW = dZ * A_prev.T: an element-wise (outer) product, right only for N = 1", None, [], ("dZ @ A_prev.T", "dZ * A_prev.T")),
    "dense_dW_elementwise_no_transpose": ("dW = dZ * A_prev: element-wise, with neither the transpose nor the sum over examples", "dW-elementwise", ["dW"], ("dZ @ A_prev.T", "dZ * A_prev")),
    # The check itself says "modified its input": no hint.
    "dense_backward_updates_W_in_place": ("fuses an SGD step into dense_backward: W -= 0.1 * dW modifies its input", None, ["in place"], ("    return", "    W -= 0.1 * dW\n    return")),
}

BUGS = {
    **{
        bug_id: bug("dense", mistake, plant("dense_backward", edit), named_above=["network", "train"], mentions=["dense_backward", *more], hint=hint)
        for bug_id, (mistake, hint, more, edit) in _DENSE_BACKWARD.items()
    },
    "dense_backward_averages_again": bug(
        "dense", "divides dW and db by N although dZ already carries the 1/N",
        plant(
            "dense_backward",
            ("dA_prev = W.T @ dZ", "N = A_prev.shape[1]\n    dA_prev = W.T @ dZ"),
            ("dW = dZ @ A_prev.T", "dW = dZ @ A_prev.T / N"),
            ("db = np.sum(dZ, axis=1, keepdims=True)", "db = np.sum(dZ, axis=1, keepdims=True) / N"),
        ),
        named_above=["network", "train"], mentions=["dense_backward", "dW"], hint="dense-one-over-n-twice",
    ),
    "dense_forward_elementwise": bug(
        "dense", "Z = W * A_prev + b: element-wise product where the matrix product belongs",
        """
def dense_forward(A_prev, W, b):
    return W * A_prev + b
""",
        named_above=["network", "train"], mentions=["dense_forward"], hint="dense-forward-elementwise",
    ),
    "dense_forward_transposes_W": bug(
        "dense", "Z = Wᵀ A_prev + b: W transposed in the forward pass",
        """
def dense_forward(A_prev, W, b):
    return W.T @ A_prev + b
""",
        named_above=["network", "train"], mentions=["dense_forward", "Z"], hint="dense-forward-transposed",
    ),
    "dense_forward_no_bias": bug(
        "dense", "Z = W A_prev: the bias is left out",
        """
def dense_forward(A_prev, W, b):
    return W @ A_prev
""",
        named_above=["network", "train"], mentions=["dense_forward", "Z"], hint="dense-forward-no-bias",
    ),
}
