"""Planted bugs in the losses' question: mse_loss and softmax_cross_entropy."""

from .make import bug


def _via_probabilities(*lines, axis=0):
    """A softmax_cross_entropy that forms the probabilities P over `axis`, then runs `lines`."""
    body = "".join(f"    {line}\n" for line in lines)
    return f"""
def softmax_cross_entropy(Z_out, Y):
    S = Z_out - Z_out.max(axis={axis}, keepdims=True)
    P = np.exp(S) / np.exp(S).sum(axis={axis}, keepdims=True)
{body}"""


# softmax_cross_entropy from the probabilities P, one line a bug: bug id: (mistake, hint, what the
# message names besides the function, source). Each also takes J as the log of P, which is nan at
# logits of ±1000: a second bug besides the one it is named for.
_LOG_P = "-np.sum(Y * np.log(P))"
_VIA_PROBABILITIES = {
    "softmax_missing_1_over_N": ("J and its gradient summed over the batch, not averaged (no 1/N)", "softmax-one-over-n-missing", ["J"], _via_probabilities(f"return float({_LOG_P}), P - Y")),
    "softmax_gradient_missing_1_over_N": ("J averaged over the batch, but its gradient P − Y not divided by N", "softmax-gradient-one-over-n-missing", ["dZ_out"], _via_probabilities(f"return float({_LOG_P} / Y.shape[1]), P - Y")),
    "softmax_over_rows": ("softmax normalised over axis 1 (the examples), not axis 0 (the classes)", "softmax-wrong-axis", ["J"], _via_probabilities(f"return float({_LOG_P} / Y.shape[1]), (P - Y) / Y.shape[1]", axis=1)),
}

BUGS = {
    # ------------------------------------------------------------------ mse
    "mse_missing_1_over_N": bug(
        "losses", "mse J and gradient summed over the batch instead of averaged (no 1/N)",
        """
def mse_loss(A_out, Y):
    diff = A_out - Y
    return float(0.5 * np.sum(diff ** 2)), diff
""",
        # The worked example has N = 1, so only the trajectories with N > 1 notice.
        named_above=["train"], mentions=["mse_loss", "J"], hint="mse-one-over-n-missing",
    ),
    "mse_gradient_missing_1_over_N": bug(
        "losses", "mse J averaged over the batch, but its gradient A − Y not divided by N",
        """
def mse_loss(A_out, Y):
    d = A_out - Y
    return float(0.5 * np.sum(d ** 2) / Y.shape[1]), d
""",
        named_above=["train"], mentions=["mse_loss", "dA_out"], hint="mse-gradient-one-over-n-missing",
    ),
    "mse_value_missing_half": bug(
        "losses", "J = (1/N) Σ ||a − y||² without the ½, while the gradient keeps it",
        """
def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    return float(np.sum(diff ** 2) / N), diff / N
""",
        named_above=["train"], mentions=["mse_loss", "J"], hint="mse-value-missing-half",
    ),
    "mse_gradient_sign_flipped": bug(
        "losses", "mse gradient (Y − A) / N: the sign is flipped",
        """
def mse_loss(A_out, Y):
    d = A_out - Y
    return float(0.5 * np.sum(d ** 2) / Y.shape[1]), (Y - A_out) / Y.shape[1]
""",
        named_above=["train"], mentions=["mse_loss", "dA_out"], hint="mse-sign-flipped",
    ),
    # ------------------------------------------------------------------ softmax cross-entropy
    "softmax_no_max_shift": bug(
        "losses", "softmax without subtracting the column max: exp(1000) overflows",
        """
def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    E = np.exp(Z_out)
    P = E / np.sum(E, axis=0, keepdims=True)
    J = -np.sum(Y * np.log(P)) / N
    return float(J), (P - Y) / N
""",
        named_above=[], mentions=["softmax_cross_entropy", "1000"], hint="softmax-no-shift",
    ),
    "softmax_gradient_sign_flipped": bug(
        "losses", "dZ = (Y − softmax) / N: the gradient's sign is flipped",
        """
def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    shifted = Z_out - np.max(Z_out, axis=0, keepdims=True)
    log_P = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    J = -np.sum(Y * log_P) / N
    return float(J), (Y - np.exp(log_P)) / N
""",
        named_above=["train"], mentions=["softmax_cross_entropy", "dZ_out"], hint="softmax-sign-flipped",
    ),
    "softmax_log_of_clipped_probabilities": bug(
        "losses", "J = −Σ y log(clip(P, 1e-7, 1 − 1e-7)) / N: the log of clipped probabilities, wrong at logits of ±1000",
        _via_probabilities(
            "P_clipped = np.clip(P, 1e-7, 1 - 1e-7)",
            "return float(-np.sum(Y * np.log(P_clipped)) / Y.shape[1]), (P - Y) / Y.shape[1]",
        ),
        named_above=["train"], mentions=["softmax_cross_entropy", "J", "1000"], hint="softmax-log-of-probabilities",
    ),
    **{
        bug_id: bug("losses", mistake, source, named_above=["train"], mentions=["softmax_cross_entropy", *more], hint=hint)
        for bug_id, (mistake, hint, more, source) in _VIA_PROBABILITIES.items()
    },
}
