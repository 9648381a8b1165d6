"""Known mistakes: recognise a wrong answer and say, in the course's terms, what went wrong.

Each entry of CATALOGUE is a mistake students actually make. Its `variant(R, *args)` computes
the known-wrong answer from the reference R on the student's own inputs, with the same
structure as the right answer (a tuple for dense_backward, a dict for backward). When a check
fails, `diagnose` compares each output the student's function produced during that check
with every variant of that function; a variant that matches (and differs from the right
answer) names the mistake. Hints are only ever looked for after a failure, so a correct
solution, however it is written, never gets one.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from backprop_lab.callers import LocalCaller
from backprop_lab.checking import run_cases
from backprop_lab.expectations import same_answer
from backprop_lab.public_hints import call_key, from_plain, to_plain


@dataclass(frozen=True)
class Mistake:
    id: str
    function: str
    hint: str
    variant: Callable


def _s(R, Z):
    return R.sigmoid_forward(Z)


def _backward_with(R, dA_out, caches, params, activations, dz_rule, scale=1.0):
    """The reference's backward loop with a changed rule for dZ: dz_rule(R, l, dA, Z, acts, caches)."""
    grads, dA, L = {}, dA_out, len(activations)
    for l in range(L, 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = dz_rule(R, l, dA, Z, activations, caches)
        dA, dW, db = R.dense_backward(dZ, A_prev, params[f"W{l}"])
        grads[f"W{l}"], grads[f"b{l}"] = dW * scale, db * scale
    return grads


def _act_backward(R, name, dA, Z):
    return {"sigmoid": R.sigmoid_backward, "tanh": R.tanh_backward, "relu": R.relu_backward}.get(name, lambda d, z: d.copy())(dA, Z)


def _train_variant(order_rule=None, history_rule=None):
    """The reference's train with a changed batch order or history."""

    def variant(R, X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
        loss_fn = {"mse": R.mse_loss, "softmax_ce": R.softmax_cross_entropy}[loss]
        N = X.shape[1]
        rng = np.random.default_rng(seed)
        history = []
        for epoch in range(epochs):
            before = loss_fn(R.forward(X, params, activations)[0], Y)[0]
            if batch_size is None:
                batches = [np.arange(N)]
            else:
                order = order_rule(rng, N, seed) if order_rule else rng.permutation(N)
                batches = [order[s : s + batch_size] for s in range(0, N, batch_size)]
            for idx in batches:
                A_out, caches = R.forward(X[:, idx], params, activations)
                params = R.sgd_update(params, R.backward(loss_fn(A_out, Y[:, idx])[1], caches, params, activations), learning_rate)
            after = loss_fn(R.forward(X, params, activations)[0], Y)[0]
            history.append(history_rule(before, after) if history_rule else after)
        return params, history

    return variant


def _softmax_naive(R, Z, Y):
    with np.errstate(all="ignore"):
        E = np.exp(Z)
        P = E / E.sum(axis=0, keepdims=True)
        N = Y.shape[1]
        return float(-np.sum(Y * np.log(P)) / N), (P - Y) / N


def _softmax_rows(R, Z, Y):
    shifted = Z - Z.max(axis=1, keepdims=True)
    P = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    N = Y.shape[1]
    with np.errstate(all="ignore"):
        return float(-np.sum(Y * np.log(P)) / N), (P - Y) / N


def _softmax_log_of(guard):
    """Softmax cross-entropy taken as log of the probabilities, after `guard(P)` (+ ε, clipping)."""

    def variant(R, Z, Y):
        shifted = Z - Z.max(axis=0, keepdims=True)
        P = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)
        N = Y.shape[1]
        with np.errstate(all="ignore"):
            return float(-np.sum(Y * np.log(guard(P))) / N), (P - Y) / N

    return variant


SOFTMAX_LOG_HINT = (
    "At logits of ±1000 the true class's probability underflows to 0: log 0 = −inf, and adding ε or clipping gives a "
    "finite but wrong loss (ε decides it). Never take the log of a probability: compute log-probabilities directly, "
    "log softmax(Z) = shifted − log Σ exp(shifted), with shifted = Z − max(Z) per column."
)
SOFTMAX_NEAR_MISSES = [lambda P: P] + [
    guard for eps in (1e-15, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6)
    for guard in (lambda P, e=eps: P + e, lambda P, e=eps: np.clip(P, e, 1.0), lambda P, e=eps: np.clip(P, e, 1.0 - e))
]


def _loss_variant(fn, j=1.0, g=1.0, n_in_j=False, n_in_g=False):
    """The reference loss with J and its gradient scaled (optionally by N, the batch size)."""

    def variant(R, P, Y):
        J, grad = getattr(R, fn)(P, Y)
        N = Y.shape[1]
        return J * j * (N if n_in_j else 1), grad * g * (N if n_in_g else 1)

    return variant


def _sigmoid_exp_ratio(R, Z):
    with np.errstate(all="ignore"):
        return np.exp(Z) / (1.0 + np.exp(Z))


CATALOGUE = [
    # --- activations (the element-wise half of BP1 and BP2)
    Mistake("sigmoid-derivative-at-output", "sigmoid_backward",
            "BP1 and BP2 use σ'(Z), the derivative at the pre-activation. You took it at the output, σ'(A) with A = σ(Z). "
            "Since σ'(Z) = σ(Z)(1 − σ(Z)), compute A = σ(Z) and use A (1 − A).",
            lambda R, dA, Z: dA * _s(R, _s(R, Z)) * (1 - _s(R, _s(R, Z)))),
    Mistake("sigmoid-no-upstream", "sigmoid_backward",
            "You returned σ'(Z) alone. The chain rule multiplies the local derivative by the upstream gradient: "
            "dZ = dA ⊙ σ'(Z) (the ⊙ in BP1 and BP2).",
            lambda R, dA, Z: _s(R, Z) * (1 - _s(R, Z))),
    Mistake("sigmoid-overflow", "sigmoid_forward",
            "exp(1000) overflows to inf and inf / inf is nan. Arrange the formula so exp never sees a large positive "
            "number: 1 / (1 + exp(−z)) for z ≥ 0 and exp(z) / (1 + exp(z)) for z < 0.",
            _sigmoid_exp_ratio),
    Mistake("tanh-derivative-at-output", "tanh_backward",
            "BP1 and BP2 use tanh'(Z) at the pre-activation Z. You applied the derivative to the output A = tanh(Z); "
            "tanh'(Z) = 1 − tanh²(Z) = 1 − A².",
            lambda R, dA, Z: dA * (1 - np.tanh(np.tanh(Z)) ** 2)),
    Mistake("tanh-no-upstream", "tanh_backward",
            "You returned tanh'(Z) alone. The chain rule multiplies it by the upstream gradient: dZ = dA ⊙ (1 − tanh²(Z)).",
            lambda R, dA, Z: 1 - np.tanh(Z) ** 2),
    Mistake("tanh-square-missing", "tanh_backward",
            "tanh'(z) = 1 − tanh(z)², with the square.",
            lambda R, dA, Z: dA * (1 - np.tanh(Z))),
    Mistake("relu-convention-at-zero", "relu_backward",
            "The course's convention is relu'(0) = 0: pass dA through only where Z > 0, strictly.",
            lambda R, dA, Z: np.where(Z >= 0, dA, 0.0)),
    Mistake("relu-mask-from-upstream", "relu_backward",
            "The mask comes from the pre-activation Z (where the unit was active in the forward pass), "
            "not from the upstream gradient dA.",
            lambda R, dA, Z: np.where(dA > 0, dA, 0.0)),
    Mistake("relu-output-as-derivative", "relu_backward",
            "You multiplied dA by relu(Z), the output. relu'(Z) is 1 where Z > 0 and 0 elsewhere: use that mask, not the output's values.",
            lambda R, dA, Z: dA * np.maximum(Z, 0.0)),
    Mistake("relu-no-upstream", "relu_backward",
            "You returned the mask relu'(Z) alone. The chain rule multiplies it by the upstream gradient: dZ = dA ⊙ relu'(Z).",
            lambda R, dA, Z: (Z > 0).astype(float)),
    # --- the dense layer (BP2's matrix product, BP3, BP4)
    Mistake("dense-forward-transposed", "dense_forward",
            "Z = W A_prev + b with W of shape (n_l, n_{l−1}): no transpose of W in the forward pass.",
            lambda R, A_prev, W, b: W.T @ A_prev + b),
    Mistake("dense-forward-elementwise", "dense_forward",
            "W A_prev is a matrix product (W @ A_prev), not an element-wise product (W * A_prev).",
            lambda R, A_prev, W, b: W * A_prev + b),
    Mistake("dense-forward-no-bias", "dense_forward",
            "The bias is missing: Z = W A_prev + b.",
            lambda R, A_prev, W, b: W @ A_prev),
    Mistake("db-not-summed", "dense_backward",
            "BP4 gives one bias gradient per unit: ∂J/∂b = the sum of δ over the N examples (the columns), "
            "shape (n_l, 1). You returned δ itself.",
            lambda R, dZ, A_prev, W: (W.T @ dZ, dZ @ A_prev.T, dZ.copy())),
    Mistake("db-wrong-axis", "dense_backward",
            "You summed δ over the units (axis 0). BP4 sums over the examples, which are columns: axis=1, keepdims=True.",
            lambda R, dZ, A_prev, W: (W.T @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=0, keepdims=True))),
    Mistake("db-no-keepdims", "dense_backward",
            "db must have b's shape (n_l, 1). np.sum(dZ, axis=1) drops the axis: add keepdims=True.",
            lambda R, dZ, A_prev, W: (W.T @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=1))),
    Mistake("dense-one-over-n-twice", "dense_backward",
            "dZ already carries the loss's 1/N (it entered in the loss's gradient). Dividing dW and db by N again applies it twice.",
            lambda R, dZ, A_prev, W: (W.T @ dZ, dZ @ A_prev.T / dZ.shape[1], np.sum(dZ, axis=1, keepdims=True) / dZ.shape[1])),
    Mistake("dA-prev-missing-transpose", "dense_backward",
            "BP2: the error flows back through the transpose of the weights, dA_prev = Wᵀ δ. You used W δ.",
            lambda R, dZ, A_prev, W: (W @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=1, keepdims=True))),
    Mistake("dW-transposed", "dense_backward",
            "BP3: dW = δ A_prevᵀ, of W's shape (n_l, n_{l−1}). You computed its transpose, A_prev δᵀ.",
            lambda R, dZ, A_prev, W: (W.T @ dZ, A_prev @ dZ.T, np.sum(dZ, axis=1, keepdims=True))),
    Mistake("dW-elementwise", "dense_backward",
            "BP3's δ A_prevᵀ is a matrix product (dZ @ A_prev.T), which also sums over the examples; "
            "an element-wise product does not.",
            lambda R, dZ, A_prev, W: (W.T @ dZ, dZ * A_prev, np.sum(dZ, axis=1, keepdims=True))),
    # --- losses
    Mistake("mse-one-over-n-missing", "mse_loss",
            "The loss is a mean over the batch: J = (1/N) Σ ½‖a − y‖², and the 1/N carries into ∂J/∂A = (A − Y)/N.",
            _loss_variant("mse_loss", n_in_j=True, n_in_g=True)),
    Mistake("mse-gradient-one-over-n-missing", "mse_loss",
            "Your J is right but your gradient is N times too large: ∂J/∂A = (A − Y)/N keeps J's 1/N.",
            _loss_variant("mse_loss", n_in_g=True)),
    Mistake("mse-value-missing-half", "mse_loss",
            "J = (1/N) Σ ½‖a − y‖²: your J lacks the ½ while your gradient (A − Y)/N assumes it, so the value and the gradient disagree.",
            _loss_variant("mse_loss", j=2.0)),
    Mistake("mse-sign-flipped", "mse_loss",
            "∂J/∂A = (A − Y)/N. You returned (Y − A)/N: with the sign flipped, gradient descent climbs the loss.",
            _loss_variant("mse_loss", g=-1.0)),
    Mistake("softmax-no-shift", "softmax_cross_entropy",
            "exp of a logit of 1000 overflows. Subtract each column's maximum from Z before exponentiating: "
            "softmax is unchanged by the shift, and exp then never sees a positive number.",
            _softmax_naive),
    Mistake("softmax-sign-flipped", "softmax_cross_entropy",
            "∂J/∂Z = (softmax(Z) − Y)/N. You returned (Y − softmax(Z))/N: with the sign flipped, gradient descent climbs the loss.",
            _loss_variant("softmax_cross_entropy", g=-1.0)),
    Mistake("softmax-one-over-n-missing", "softmax_cross_entropy",
            "The loss is a mean over the batch: divide J and its gradient by N.",
            _loss_variant("softmax_cross_entropy", n_in_j=True, n_in_g=True)),
    Mistake("softmax-gradient-one-over-n-missing", "softmax_cross_entropy",
            "Your J is right but your gradient is N times too large: ∂J/∂Z = (softmax(Z) − Y)/N.",
            _loss_variant("softmax_cross_entropy", n_in_g=True)),
    Mistake("softmax-wrong-axis", "softmax_cross_entropy",
            "Examples are columns: softmax normalises each column (axis=0), and the max to subtract is per column.",
            _softmax_rows),
] + [
    Mistake("softmax-log-of-probabilities", "softmax_cross_entropy", SOFTMAX_LOG_HINT, _softmax_log_of(guard))
    for guard in SOFTMAX_NEAR_MISSES
] + [
    # --- the whole network
    Mistake("backward-hidden-derivative-skipped", "backward",
            "BP2: δ^(l) = (W^(l+1)ᵀ δ^(l+1)) ⊙ σ'(Z^(l)). For the hidden layers you skipped the ⊙ σ'(Z^(l)).",
            lambda R, dA, caches, params, acts: _backward_with(R, dA, caches, params, acts,
                lambda R, l, d, Z, a, c: _act_backward(R, a[l - 1], d, Z) if l == len(a) else d.copy())),
    Mistake("backward-output-derivative-skipped", "backward",
            "BP1: δ^(L) = ∇_A J ⊙ σ'(Z^(L)). You used ∇_A J directly as δ^(L), skipping the output activation's derivative.",
            lambda R, dA, caches, params, acts: _backward_with(R, dA, caches, params, acts,
                lambda R, l, d, Z, a, c: d.copy() if l == len(a) else _act_backward(R, a[l - 1], d, Z))),
    Mistake("backward-off-by-one-activation", "backward",
            "Off by one layer: layer l's error signal needs the derivative of layer l's own activation, σ^(l)'(Z^(l)) "
            "(activations[l - 1] with layers numbered from 1), not the next layer's.",
            lambda R, dA, caches, params, acts: _backward_with(R, dA, caches, params, acts,
                lambda R, l, d, Z, a, c: _act_backward(R, a[l] if l < len(a) else a[l - 1], d, Z))),
    Mistake("backward-off-by-one-cache", "backward",
            "Off by one layer: layer l needs its own cache, Z^(l) and A^(l−1) (caches[l - 1] with layers numbered from 1).",
            lambda R, dA, caches, params, acts: _backward_with(R, dA, caches, params, acts,
                lambda R, l, d, Z, a, c: _act_backward(R, a[l - 1], d, c[l][1] if l < len(c) else Z))),
    Mistake("backward-one-over-n-twice", "backward",
            "dA_out from the loss already carries the 1/N. Dividing the gradients by N again applies it twice.",
            lambda R, dA, caches, params, acts: {k: v / dA.shape[1] for k, v in R.backward(dA, caches, params, acts).items()}),
    # --- gradient descent
    Mistake("sgd-adds-gradient", "sgd_update",
            "Gradient descent steps against the gradient: θ ← θ − η ∂J/∂θ. You added it, which climbs the loss.",
            lambda R, params, grads, lr: {k: v + lr * grads[k] for k, v in params.items()}),
    Mistake("sgd-ignores-learning-rate", "sgd_update",
            "The step is η ∂J/∂θ: multiply the gradient by learning_rate.",
            lambda R, params, grads, lr: {k: v - grads[k] for k, v in params.items()}),
    Mistake("sgd-weights-only", "sgd_update",
            "Update every parameter: the biases b^(l) as well as the weights W^(l).",
            lambda R, params, grads, lr: {k: (v - lr * grads[k]) if k.startswith("W") else v.copy() for k, v in params.items()}),
    Mistake("sgd-last-layer-only", "sgd_update",
            "Update the parameters of every layer, not only the last one.",
            lambda R, params, grads, lr: {k: (v - lr * grads[k]) if k[1:] == str(len(params) // 2) else v.copy() for k, v in params.items()}),
    # --- training
    Mistake("train-no-shuffle", "train",
            "Each epoch must visit the examples in the order rng.permutation(N), with rng created once from seed. You kept them in their original order.",
            _train_variant(order_rule=lambda rng, N, seed: np.arange(N))),
    Mistake("train-rng-every-epoch", "train",
            "Create rng = np.random.default_rng(seed) once, before the epochs. Creating it anew in every epoch repeats the same order each epoch.",
            _train_variant(order_rule=lambda rng, N, seed: np.random.default_rng(seed).permutation(N))),
    Mistake("train-history-before-epoch", "train",
            "history[e] is the loss on all of X, Y after epoch e's updates; you recorded it before them.",
            _train_variant(history_rule=lambda before, after: before)),
]

BY_FUNCTION = {}
for _m in CATALOGUE:
    BY_FUNCTION.setdefault(_m.function, []).append(_m)

IGNORES_ARGUMENT = (
    "It returns the same result for different inputs: does it use a global variable (say X_train or params from "
    "an earlier cell) instead of its argument? Use only the arguments it is given."
)


# -- recognising a mistake ------------------------------------------------------------------


def diagnose(calls, R):
    """A hint for the first logged call whose output matches a known mistake, or None.

    `calls` are (function name, arguments, student's output) in the order a failing check
    made them; R is the reference module.
    """
    for i, (name, args, value) in enumerate(calls):
        args = _reference_args(name, args, calls[:i], R)
        if args is None:
            continue
        try:
            with np.errstate(all="ignore"):
                right = getattr(R, name)(*args)
        except Exception:  # noqa: BLE001 - inputs the reference rejects cannot be diagnosed
            continue
        for mistake in BY_FUNCTION.get(name, ()):
            try:
                with np.errstate(all="ignore"):
                    wrong = mistake.variant(R, *args)
            except Exception:  # noqa: BLE001 - a variant that does not apply to these shapes
                continue
            if same_answer(value, wrong) and not same_answer(wrong, right):
                return f"Hint [{mistake.id}]: {mistake.hint}"
    name = _ignored_argument(calls, R)
    if name:
        return f"Hint [ignores-its-arguments]: {name}: {IGNORES_ARGUMENT}"
    return None


def _reference_args(name, args, earlier, R):
    """Arguments the reference can take: backward gets the reference's caches for the same forward."""
    if name != "backward":
        return tuple(args)
    dA, _, params, acts = args
    for prev_name, prev_args, _ in reversed(earlier):
        if prev_name == "forward" and same_answer(prev_args[1], params) and list(prev_args[2]) == list(acts):
            return dA, R.forward(prev_args[0], params, acts)[1], params, acts
    return None


def _ignored_argument(calls, R):
    """The function that returned the same output for inputs on which the reference's outputs differ."""
    seen = {}
    for name, args, value in calls:
        if name == "backward":
            continue
        for other_args, other_value in seen.get(name, []):
            if same_answer(value, other_value):
                try:
                    if not same_answer(getattr(R, name)(*args), getattr(R, name)(*other_args)):
                        return name
                except Exception:  # noqa: BLE001
                    continue
        seen.setdefault(name, []).append((args, value))
    return None


def public_hint_table(R):
    """{call key: [{id, hint, answer}]}: the known mistakes' answers to every public check's calls.

    The public checks are run against the reference; each call they make is answered by every
    variant that differs from the right answer. The build ships this table with the handout,
    so grader.check can name a mistake without the reference.
    """
    from backprop_lab.public_checks import PUBLIC

    table = {}
    for cases in PUBLIC.values():
        for case in cases:
            caller = LocalCaller(vars(R))
            run_cases([case], caller, 0)
            for i, (name, args, _) in enumerate(caller.log):
                resolved = _reference_args(name, args, caller.log[:i], R)
                if resolved is None:
                    continue
                with np.errstate(all="ignore"):
                    right = getattr(R, name)(*resolved)
                    entries = table.setdefault(call_key(name, args), [])
                    for mistake in BY_FUNCTION.get(name, ()):
                        try:
                            wrong = mistake.variant(R, *resolved)
                        except Exception:  # noqa: BLE001 - does not apply to these shapes
                            continue
                        if not same_answer(wrong, right) and not any(e["id"] == mistake.id and same_answer(wrong, from_plain(e["answer"])) for e in entries):
                            entries.append({"id": mistake.id, "hint": mistake.hint, "answer": to_plain(wrong)})
    return {k: v for k, v in sorted(table.items()) if v}
