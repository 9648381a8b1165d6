"""The student contract: each function's parameter names, and which question grades which functions."""

# Each function's parameter names, used to name inputs in messages.
SIGNATURES = {
    "sigmoid_forward": ("Z",),
    "sigmoid_backward": ("dA", "Z"),
    "tanh_forward": ("Z",),
    "tanh_backward": ("dA", "Z"),
    "relu_forward": ("Z",),
    "relu_backward": ("dA", "Z"),
    "dense_forward": ("A_prev", "W", "b"),
    "dense_backward": ("dZ", "A_prev", "W"),
    "mse_loss": ("A_out", "Y"),
    "softmax_cross_entropy": ("Z_out", "Y"),
    "forward": ("X", "params", "activations"),
    "backward": ("dA_out", "caches", "params", "activations"),
    "sgd_update": ("params", "grads", "learning_rate"),
    "train": ("X", "Y", "params", "activations", "loss", "learning_rate", "epochs", "batch_size", "seed"),
}


# Which question grades which functions, and, for follow-through marking, the lower functions
# a question's functions may call: those are answered by the reference when the autograder
# grades that question, so a bug costs points only in the question of the function that has it.
QUESTION_FUNCTIONS = {
    "sigmoid": ("sigmoid_forward", "sigmoid_backward"),
    "tanh": ("tanh_forward", "tanh_backward"),
    "relu": ("relu_forward", "relu_backward"),
    "dense": ("dense_forward", "dense_backward"),
    "losses": ("mse_loss", "softmax_cross_entropy"),
    "network": ("forward", "backward"),
    "sgd": ("sgd_update",),
    "train": ("train",),
}
QUESTION_OF = {fn: q for q, fns in QUESTION_FUNCTIONS.items() for fn in fns}
_LAYER_FUNCTIONS = sum((QUESTION_FUNCTIONS[q] for q in ("sigmoid", "tanh", "relu", "dense", "losses")), ())
BELOW = {
    "network": _LAYER_FUNCTIONS,
    "train": _LAYER_FUNCTIONS + QUESTION_FUNCTIONS["network"] + QUESTION_FUNCTIONS["sgd"],
}
