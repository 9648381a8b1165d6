"""Planted bugs in the questions that put the layers together: network, sgd and train."""

from .make import bug, plant

W1_GRAD = "grads['W1']"
# One edit of the reference's backward each, one line a bug:
# bug id: (mistake, hint, what the message names besides backward, (old, new)).
_BACKWARD = {
    "backward_off_by_one_layer": ("reads caches[l - 2] for layer l: the previous layer's cache (and caches[-1] for layer 1)", None, [], ("caches[l - 1]", "caches[l - 2]")),
    "backward_next_layers_Z": ("layer l takes Z from the next layer's cache, caches[l], with its own A_prev", "backward-off-by-one-cache", [W1_GRAD], ("(dA, Z)\n", "(dA, caches[l][1] if l < len(caches) else Z)\n")),
    "backward_next_layers_activation": ("layer l uses the derivative of the next layer's activation, activations[l]", "backward-off-by-one-activation", [W1_GRAD], ("[activations[l - 1]]", "[activations[l] if l < len(activations) else activations[l - 1]]")),
    "backward_skips_hidden_derivatives": ("applies the activation derivative at the output layer only", "backward-hidden-derivative-skipped", [W1_GRAD], ("(dA, Z)\n", "(dA, Z) if l == len(activations) else dA\n")),
    "backward_skips_output_derivative": ("applies the activation derivative at the hidden layers only: dZ = dA_out at the output", "backward-output-derivative-skipped", [W1_GRAD], ("(dA, Z)\n", "(dA, Z) if l < len(activations) else dA\n")),
    "backward_averages_again": ("divides the output layer's dZ by N although dA_out already carries the 1/N", "backward-one-over-n-twice", [W1_GRAD], ("(dA, Z)\n", "(dA, Z) / (dA_out.shape[1] if l == len(activations) else 1)\n")),
    # train's checks run it with the student's own backward, which changes its input there too.
    "backward_pops_caches": ("takes the caches with caches.pop(), emptying the caller's list", None, ["in place"], ("caches[l - 1]", "caches.pop()")),
    "backward_ignores_activation_names": ("uses sigmoid_backward for every layer, whatever the activation", None, ["grads["], ("backward_fns[activations[l - 1]](dA, Z)", "sigmoid_backward(dA, Z)")),
}

_HISTORY = "A_out, _ = forward(X, params, activations)\n        history.append(loss_fn(A_out, Y)[0])"
_BEFORE = "        before = loss_fn(forward(X, params, activations)[0], Y)[0]\n"
# Edits of the reference's train, one line a bug: bug id: (mistake, hint, (old, new), ...).
_TRAIN = {
    "train_no_shuffle": ("mini-batches in the data's order: no rng.permutation", "train-no-shuffle", ("rng.permutation(N)", "np.arange(N)")),
    "train_ignores_batch_size": ("always one full-batch step per epoch, whatever batch_size says", None, ("if batch_size is None:", "if True:  # batch_size is never read")),
    "train_new_rng_every_epoch": ("creates default_rng(seed) inside the epoch loop: the same order every epoch", "train-rng-every-epoch", ("    rng = np.random.default_rng(seed)\n", ""), ("rng.permutation(N)", "np.random.default_rng(seed).permutation(N)")),
    "train_drops_last_batch": ("range(0, N - batch_size + 1, batch_size): the smaller last batch is skipped", None, ("range(0, N, batch_size)", "range(0, N - batch_size + 1, batch_size)")),
    # With one full batch the last batch's loss is the loss before the epoch: that hint.
    "train_history_of_last_batch": ("records the last mini-batch's loss (before its step) instead of the loss on all of X, Y after the epoch", "train-history-before-epoch", ("_, dA_out = loss_fn", "J, dA_out = loss_fn"), (_HISTORY, "history.append(J)")),
    "train_history_before_epoch": ("records the loss on all of X, Y before the epoch's updates, not after them", "train-history-before-epoch", ("range(epochs):\n", "range(epochs):\n" + _BEFORE), (_HISTORY, "history.append(before)")),
}

BUGS = {
    # ------------------------------------------------------------------ network
    **{
        bug_id: bug("network", mistake, plant("backward", edit), named_above=["train"], mentions=["backward", *more], hint=hint)
        for bug_id, (mistake, hint, more, edit) in _BACKWARD.items()
    },
    "forward_caches_output_not_input": bug(
        "network", "caches the layer's output A in place of its input A_prev",
        plant("forward", ("caches.append((A, Z))\n        A = forward_fns[name](Z)", "A = forward_fns[name](Z)\n        caches.append((A, Z))")),
        named_above=["train"], mentions=["backward"], hint=None,
    ),
    # ------------------------------------------------------------------ sgd
    "sgd_adds_gradient": bug(
        "sgd", "W + η dW: steps up the gradient",
        """
def sgd_update(params, grads, learning_rate):
    return {k: v + learning_rate * grads[k] for k, v in params.items()}
""",
        named_above=["train"], mentions=["sgd_update", "W1"], hint="sgd-adds-gradient",
    ),
    "sgd_updates_weights_only": bug(
        "sgd", "updates the W's and copies the b's unchanged",
        """
def sgd_update(params, grads, learning_rate):
    new = {}
    for k, v in params.items():
        new[k] = v - learning_rate * grads[k] if k.startswith("W") else v.copy()
    return new
""",
        named_above=["train"], mentions=["sgd_update", "b1"], hint="sgd-weights-only",
    ),
    "sgd_updates_last_layer_only": bug(
        "sgd", "updates the last layer's W and b and copies the others unchanged",
        """
def sgd_update(params, grads, learning_rate):
    L = len(params) // 2
    return {k: (v - learning_rate * grads[k]) if k in (f"W{L}", f"b{L}") else v.copy() for k, v in params.items()}
""",
        named_above=["train"], mentions=["sgd_update", "W1"], hint="sgd-last-layer-only",
    ),
    "sgd_ignores_learning_rate": bug(
        "sgd", "W − dW: the learning rate is never used",
        """
def sgd_update(params, grads, learning_rate):
    return {k: v - grads[k] for k, v in params.items()}
""",
        named_above=["train"], mentions=["sgd_update", "W1"], hint="sgd-ignores-learning-rate",
    ),
    "sgd_updates_in_place": bug(
        "sgd", "params[k] -= η grads[k] modifies the caller's arrays and returns the same dict",
        """
def sgd_update(params, grads, learning_rate):
    for k in params:
        params[k] -= learning_rate * grads[k]
    return params
""",
        named_above=["train"], mentions=["sgd_update", "in place"], hint=None,  # the check itself says "modified its input"
    ),
    # ------------------------------------------------------------------ train
    **{
        bug_id: bug("train", mistake, plant("train", *edits), named_above=[], mentions=["train", "history"], hint=hint)
        for bug_id, (mistake, hint, *edits) in _TRAIN.items()
    },
    "train_uses_global_learning_rate": bug(
        "train", "names its parameter lr but steps with the notebook's global learning_rate",
        plant("train", ("loss, learning_rate, epochs", "loss, lr, epochs")),
        named_above=[], mentions=["train", "history"], hint=None,
        setup="learning_rate = 0.1  # set in an earlier notebook cell\n",
    ),
    "train_uses_global_data": bug(
        "train", "names its parameters X_train, Y_train but trains on the notebook's global X, Y (the XOR data)",
        plant("train", ("def train(X, Y,", "def train(X_train, Y_train,")),
        named_above=[], mentions=["train"], hint="ignores-its-arguments",
        setup="X = np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 1.0]])  # the XOR cell\nY = np.array([[0.0, 1.0, 1.0, 0.0]])\n",
    ),
}
