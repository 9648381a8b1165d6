"""More whole-notebook styles (see styles.py), aimed at the follow-through machinery of the worker.

STYLES2[id] = {"cells": [...], "note": "...", "bug_of": None or the correct id the bug is planted in,
               "bug_question": None or the question the bug belongs to}

Correct entries must earn 80/80; a buggy entry must lose points only in bug_question.
"""

IMPORTS = "import numpy as np\nfrom backprop_lab.helpers import identity_forward, identity_backward"

STYLES2 = {}


def _planted(cells, old, new):
    assert sum(cell.count(old) for cell in cells) == 1, f"{old!r} must occur exactly once"
    return [cell.replace(old, new) for cell in cells]


def _add(sid, note, cells):
    assert cells[0] == IMPORTS
    STYLES2[sid] = {"cells": cells, "note": note, "bug_of": None, "bug_question": None}


def _bug(base, question, old, new, note):
    sid = f"{base}_buggy_{question}"
    STYLES2[sid] = {"cells": _planted(STYLES2[base]["cells"], old, new), "note": "BUGGY on purpose: " + note,
                    "bug_of": base, "bug_question": question}


# plain pieces several styles share -----------------------------------------------------------

DENSE = '''
def dense_forward(A_prev, W, b):
    return W @ A_prev + b


def dense_backward(dZ, A_prev, W):
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
'''

LOSSES = '''
def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    return float(0.5 * np.sum(diff * diff) / N), diff / N


def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    s = Z_out - Z_out.max(axis=0, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=0, keepdims=True))
    return float(-np.sum(Y * logp) / N), (np.exp(logp) - Y) / N
'''

SGD = '''
def sgd_update(params, grads, learning_rate):
    return {k: v - learning_rate * grads[k] for k, v in params.items()}
'''

ACTS_PLAIN = '''
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_backward(dA, Z):
    S = sigmoid_forward(Z)
    return dA * S * (1.0 - S)


def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return dA * (1.0 - np.tanh(Z) ** 2)


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)
'''

NETWORK_GLOBAL = '''
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = globals()[f"{name}_forward"](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = globals()[f"{activations[l - 1]}_backward"](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
'''

TRAIN_PLAIN = '''
def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = mse_loss if loss == "mse" else softmax_cross_entropy
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        if batch_size is None:
            batches = [np.arange(N)]
        else:
            order = rng.permutation(N)
            batches = [order[i:i + batch_size] for i in range(0, N, batch_size)]
        for idx in batches:
            A_out, caches = forward(X[:, idx], params, activations)
            _, dA = loss_fn(A_out, Y[:, idx])
            params = sgd_update(params, backward(dA, caches, params, activations), learning_rate)
        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])
    return params, history
'''

# 1. factory closures, reached through a module-level dict ---------------------------------

_add("factory_closures", "activations made by a factory make_activation(kind) -> (fwd, bwd) closures; forward/backward "
     "reach them through a module-level dict ACT of those closures", [
    IMPORTS,
    '''
def make_activation(kind):
    """Return (forward, backward) for an element-wise activation."""
    if kind == "sigmoid":
        def f(Z):
            E = np.exp(-np.abs(Z))
            return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))

        def df(A, Z):
            return A * (1.0 - A)
    elif kind == "tanh":
        def f(Z):
            return np.tanh(Z)

        def df(A, Z):
            return 1.0 - A ** 2
    elif kind == "relu":
        def f(Z):
            return np.maximum(Z, 0.0)

        def df(A, Z):
            return (Z > 0).astype(float)
    else:
        raise ValueError(kind)

    def fwd(Z):
        return f(Z)

    def bwd(dA, Z):
        return dA * df(f(Z), Z)

    fwd.__name__, bwd.__name__ = f"{kind}_forward", f"{kind}_backward"
    return fwd, bwd


sigmoid_forward, sigmoid_backward = make_activation("sigmoid")
tanh_forward, tanh_backward = make_activation("tanh")
relu_forward, relu_backward = make_activation("relu")
''',
    DENSE + LOSSES,
    '''
ACT = {
    "sigmoid": (sigmoid_forward, sigmoid_backward),
    "tanh": (tanh_forward, tanh_backward),
    "relu": (relu_forward, relu_backward),
    "identity": (identity_forward, identity_backward),
}


def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = ACT[name][0](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = ACT[activations[l - 1]][1](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
''',
    SGD + TRAIN_PLAIN,
])
_bug("factory_closures", "sigmoid", "return A * (1.0 - A)", "return A * (1.0 - Z)",
     "factory's sigmoid derivative uses Z for A: sigmoid_backward is a closure held in ACT")

# 1b. the same factory, looked up by global name (name replacement reaches it) ---------------

_add("factory_globals", "same factory closures, but forward/backward look them up by global name at call time", [
    IMPORTS,
    STYLES2["factory_closures"]["cells"][1],
    DENSE + LOSSES,
    NETWORK_GLOBAL,
    SGD + TRAIN_PLAIN,
])
_bug("factory_globals", "sigmoid", "return A * (1.0 - A)", "return A * (1.0 - Z)",
     "factory's sigmoid derivative uses Z for A; forward/backward look it up by name")

# 2. decorators: logging with functools.wraps, and a hand-made memo --------------------------

_add("decorated", "every contract function wrapped by a functools.wraps logging decorator (counts calls); activations "
     "also wrapped by a dict memo keyed on the bytes of Z; forward/backward use a module dict of the wrappers", [
    IMPORTS,
    '''
import functools

CALLS = {}


def logged(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        CALLS[fn.__name__] = CALLS.get(fn.__name__, 0) + 1
        return fn(*args, **kwargs)
    return wrapper


def memo(fn):
    store = {}

    @functools.wraps(fn)
    def wrapper(*args):
        key = tuple((a.shape, a.tobytes()) for a in args)
        if key not in store:
            if len(store) > 256:
                store.clear()
            store[key] = fn(*args)
        return store[key].copy()
    return wrapper
''',
    '''
@logged
@memo
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


@logged
def sigmoid_backward(dA, Z):
    S = sigmoid_forward(Z)
    return dA * S * (1.0 - S)


@logged
@memo
def tanh_forward(Z):
    return np.tanh(Z)


@logged
def tanh_backward(dA, Z):
    return dA * (1.0 - np.tanh(Z) ** 2)


@logged
@memo
def relu_forward(Z):
    return np.maximum(Z, 0.0)


@logged
def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)
''',
    '''
@logged
def dense_forward(A_prev, W, b):
    return W @ A_prev + b


@logged
def dense_backward(dZ, A_prev, W):
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)


@logged
def mse_loss(A_out, Y):
    N = Y.shape[1]
    diff = A_out - Y
    return float(0.5 * np.sum(diff * diff) / N), diff / N


@logged
def softmax_cross_entropy(Z_out, Y):
    N = Y.shape[1]
    s = Z_out - Z_out.max(axis=0, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=0, keepdims=True))
    return float(-np.sum(Y * logp) / N), (np.exp(logp) - Y) / N
''',
    '''
FWD = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
BWD = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}


@logged
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = FWD[name](Z)
    return A, caches


@logged
def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = BWD[activations[l - 1]](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads


@logged
''' + SGD.lstrip() + '\n\n@logged' + TRAIN_PLAIN,
])
_bug("decorated", "relu", "return np.where(Z > 0, dA, 0.0)", "return np.where(Z >= 0, dA, 0.0)",
     "relu_backward passes the gradient at z = 0 (relu'(0) = 1); the dict BWD holds the decorated wrapper")
STYLES2["decorated_buggy_dense"] = {
    "cells": _planted(STYLES2["decorated"]["cells"], "dZ.sum(axis=1, keepdims=True)", "dZ.mean(axis=1, keepdims=True)"),
    "note": "BUGGY on purpose: decorated dense_backward averages db; backward calls it by global name",
    "bug_of": "decorated", "bug_question": "dense"}

# 3. functools.partial ------------------------------------------------------------------------

_add("partials", "one generic _act_forward(Z, kind) / _act_backward(dA, Z, kind); the contract names are "
     "functools.partial objects; forward/backward call the partials by global name", [
    IMPORTS,
    '''
from functools import partial


def _act_forward(Z, kind):
    if kind == "sigmoid":
        E = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))
    if kind == "tanh":
        return np.tanh(Z)
    if kind == "relu":
        return np.maximum(Z, 0.0)
    return Z.copy()


def _act_backward(dA, Z, kind):
    if kind == "sigmoid":
        S = _act_forward(Z, "sigmoid")
        return dA * S * (1.0 - S)
    if kind == "tanh":
        return dA * (1.0 - np.tanh(Z) ** 2)
    if kind == "relu":
        return np.where(Z > 0, dA, 0.0)
    return dA.copy()


sigmoid_forward = partial(_act_forward, kind="sigmoid")
sigmoid_backward = partial(_act_backward, kind="sigmoid")
tanh_forward = partial(_act_forward, kind="tanh")
tanh_backward = partial(_act_backward, kind="tanh")
relu_forward = partial(_act_forward, kind="relu")
relu_backward = partial(_act_backward, kind="relu")
''',
    DENSE + LOSSES,
    '''
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward,
             "identity": identity_forward}[name](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward,
              "identity": identity_backward}[activations[l - 1]](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
''',
    SGD + TRAIN_PLAIN,
])
_bug("partials", "tanh", "return dA * (1.0 - np.tanh(Z) ** 2)", "return dA * (1.0 - np.tanh(Z))",
     "tanh derivative 1 - tanh(z) (square missing), inside the generic _act_backward")

# 3b. partials stored in a module-level dict --------------------------------------------------

_add("partials_dict", "the same partial objects, but forward/backward reach them through a module-level dict", [
    IMPORTS,
    STYLES2["partials"]["cells"][1],
    DENSE + LOSSES,
    '''
PAIRS = {"sigmoid": (sigmoid_forward, sigmoid_backward), "tanh": (tanh_forward, tanh_backward),
         "relu": (relu_forward, relu_backward), "identity": (identity_forward, identity_backward)}


def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = PAIRS[name][0](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = PAIRS[activations[l - 1]][1](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
''',
    SGD + TRAIN_PLAIN,
])
_bug("partials_dict", "tanh", "return dA * (1.0 - np.tanh(Z) ** 2)", "return dA * (1.0 - np.tanh(Z))",
     "tanh derivative 1 - tanh(z); PAIRS holds the partial objects")

# 4. helpers as default arguments ----------------------------------------------------------------

_add("default_args", "forward/backward/train get their helpers as default arguments (fns=ACTS, dense=dense_forward, "
     "keyword-only _step=sgd_update ...), bound when the def runs", [
    IMPORTS,
    ACTS_PLAIN + DENSE + LOSSES + SGD,
    '''
ACTS = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}
DACTS = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward, "identity": identity_backward}


def forward(X, params, activations, fns=ACTS, dense=dense_forward):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = fns[name](Z)
    return A, caches


def backward(dA_out, caches, params, activations, fns=DACTS, dense_back=dense_backward):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_back(fns[activations[l - 1]](dA, Z), A_prev, params[f"W{l}"])
    return grads


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0, *,
          _fwd=forward, _bwd=backward, _step=sgd_update, _losses={"mse": mse_loss, "softmax_ce": softmax_cross_entropy}):
    loss_fn = _losses[loss]
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        order = np.arange(N) if batch_size is None else rng.permutation(N)
        step = N if batch_size is None else batch_size
        for i in range(0, N, step):
            idx = order[i:i + step]
            A_out, caches = _fwd(X[:, idx], params, activations)
            _, dA = loss_fn(A_out, Y[:, idx])
            params = _step(params, _bwd(dA, caches, params, activations), learning_rate)
        history.append(loss_fn(_fwd(X, params, activations)[0], Y)[0])
    return params, history
''',
])
_bug("default_args", "relu", "return np.where(Z > 0, dA, 0.0)", "return np.where(Z > 0, dA, 1.0)",
     "relu_backward lets 1 through where z <= 0; reached through the default argument fns=DACTS")
STYLES2["default_args_buggy_sgd"] = {
    "cells": _planted(STYLES2["default_args"]["cells"], "v - learning_rate * grads[k]", "v + learning_rate * grads[k]"),
    "note": "BUGGY on purpose: default_args with sgd_update stepping uphill; train reaches it through _step=sgd_update",
    "bug_of": "default_args", "bug_question": "sgd"}

# 5. callable class instances bound to the contract names ------------------------------------

_add("callable_instances", "sigmoid_forward = Sigmoid() etc.: instances with __call__; dense and losses are plain "
     "functions; forward/backward reach the instances through a LAYERS dict", [
    IMPORTS,
    '''
class _Elementwise:
    def __call__(self, *args):
        return self.fwd(*args) if len(args) == 1 else self.bwd(*args)


class _SigmoidF(_Elementwise):
    def fwd(self, Z):
        E = np.exp(-np.abs(Z))
        return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


class _SigmoidB(_Elementwise):
    def bwd(self, dA, Z):
        S = sigmoid_forward(Z)
        return dA * S * (1.0 - S)


class _TanhF(_Elementwise):
    def fwd(self, Z):
        return np.tanh(Z)


class _TanhB(_Elementwise):
    def bwd(self, dA, Z):
        return dA * (1.0 - np.tanh(Z) ** 2)


class _ReluF(_Elementwise):
    def fwd(self, Z):
        return np.maximum(Z, 0.0)


class _ReluB(_Elementwise):
    def bwd(self, dA, Z):
        return dA * (Z > 0)


sigmoid_forward, sigmoid_backward = _SigmoidF(), _SigmoidB()
tanh_forward, tanh_backward = _TanhF(), _TanhB()
relu_forward, relu_backward = _ReluF(), _ReluB()
''',
    DENSE + LOSSES,
    '''
LAYERS = {"sigmoid": (sigmoid_forward, sigmoid_backward), "tanh": (tanh_forward, tanh_backward),
          "relu": (relu_forward, relu_backward), "identity": (identity_forward, identity_backward)}


def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = LAYERS[name][0](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = LAYERS[activations[l - 1]][1](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
''',
    SGD + TRAIN_PLAIN,
])
_bug("callable_instances", "relu", "return np.maximum(Z, 0.0)", "return np.maximum(Z, 0.01 * Z)",
     "relu_forward is a leaky ReLU; LAYERS holds the callable instance")

# 6. contract functions calling each other: backward recomputes Z through forward ------------

_add("mutual_calls", "sigmoid_backward/tanh_backward call their forward; caches hold only X; backward calls "
     "forward again to recompute every Z; mse_loss calls dense_forward-free helpers", [
    IMPORTS,
    '''
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_backward(dA, Z):
    A = sigmoid_forward(Z)
    return dA * A * (1.0 - A)


def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return dA * (1.0 - tanh_forward(Z) ** 2)


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def relu_backward(dA, Z):
    return dA * (relu_forward(Z) > 0)
''',
    DENSE + LOSSES,
    '''
def forward(X, params, activations):
    A, Zs = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        Zs.append(Z)
        A = eval(f"{name}_forward")(Z)
    return A, {"X": X, "Z": Zs}


def backward(dA_out, caches, params, activations):
    X = caches["X"]
    _, again = forward(X, params, activations)  # recompute Z^(l) rather than trust the cache
    inputs = [X] + [eval(f"{n}_forward")(Z) for n, Z in zip(activations, again["Z"])][:-1]
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        dZ = eval(f"{activations[l - 1]}_backward")(dA, again["Z"][l - 1])
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, inputs[l - 1], params[f"W{l}"])
    return grads
''',
    SGD + TRAIN_PLAIN,
])
_bug("mutual_calls", "dense", "return W @ A_prev + b\n", "return W @ A_prev - b\n",
     "dense_forward subtracts b; backward recomputes Z through forward, which calls it")
STYLES2["mutual_calls_buggy_sigmoid"] = {
    "cells": _planted(STYLES2["mutual_calls"]["cells"], "return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))",
                      "return np.where(Z >= 0, 1.0 / (1.0 + E), 1.0 / (1.0 + E))"),
    "note": "BUGGY on purpose: sigmoid_forward wrong for z < 0; sigmoid_backward calls it",
    "bug_of": "mutual_calls", "bug_question": "sigmoid"}

# 7. generators and recursion over layers ---------------------------------------------------

_add("recursive_generators", "forward is recursive over layers; backward walks a generator of reversed layers; "
     "train draws batches from a generator function", [
    IMPORTS,
    ACTS_PLAIN + DENSE + LOSSES + SGD,
    '''
def forward(X, params, activations, _l=1):
    if _l > len(activations):
        return X, []
    Z = dense_forward(X, params[f"W{_l}"], params[f"b{_l}"])
    A = globals()[activations[_l - 1] + "_forward"](Z)
    A_out, rest = forward(A, params, activations, _l + 1)
    return A_out, [(X, Z)] + rest


def _layers_backwards(caches, activations):
    for l in range(len(activations), 0, -1):
        yield l, caches[l - 1], activations[l - 1]


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l, (A_prev, Z), name in _layers_backwards(caches, activations):
        dZ = globals()[name + "_backward"](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads


def _batches(N, batch_size, rng):
    if batch_size is None:
        yield np.arange(N)
        return
    order = rng.permutation(N)
    yield from (order[i:i + batch_size] for i in range(0, N, batch_size))


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    rng = np.random.default_rng(seed)
    history = []
    for _ in range(epochs):
        for idx in _batches(X.shape[1], batch_size, rng):
            A_out, caches = forward(X[:, idx], params, activations)
            params = sgd_update(params, backward(loss_fn(A_out, Y[:, idx])[1], caches, params, activations), learning_rate)
        history.append(loss_fn(forward(X, params, activations)[0], Y)[0])
    return params, history
''',
])
_bug("recursive_generators", "losses", "return float(0.5 * np.sum(diff * diff) / N), diff / N",
     "return float(0.5 * np.sum(diff * diff) / N), diff",
     "mse_loss gradient not divided by N")

# 8. threads and np.vectorize --------------------------------------------------------------

_add("threads_vectorize", "activations through np.vectorize of scalar math functions; forward splits the examples "
     "in two halves and runs them on a ThreadPoolExecutor, then concatenates", [
    IMPORTS,
    '''
import math
from concurrent.futures import ThreadPoolExecutor


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


_vsig = np.vectorize(_sig, otypes=[float])
_vtanh = np.vectorize(math.tanh, otypes=[float])
_vrelu = np.vectorize(lambda z: z if z > 0 else 0.0, otypes=[float])


def sigmoid_forward(Z):
    return _vsig(Z)


def sigmoid_backward(dA, Z):
    S = _vsig(Z)
    return dA * S * (1.0 - S)


def tanh_forward(Z):
    return _vtanh(Z)


def tanh_backward(dA, Z):
    return dA * (1.0 - _vtanh(Z) ** 2)


def relu_forward(Z):
    return _vrelu(Z)


def relu_backward(dA, Z):
    return np.where(Z > 0, dA, 0.0)
''',
    DENSE + LOSSES,
    '''
def _forward_part(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = globals()[name + "_forward"](Z)
    return A, caches


def forward(X, params, activations):
    N = X.shape[1]
    if N < 2:
        return _forward_part(X, params, activations)
    halves = [X[:, : N // 2], X[:, N // 2:]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        (A1, c1), (A2, c2) = pool.map(lambda part: _forward_part(part, params, activations), halves)
    caches = [(np.concatenate([a, b], axis=1), np.concatenate([z, y], axis=1)) for (a, z), (b, y) in zip(c1, c2)]
    return np.concatenate([A1, A2], axis=1), caches
''' + "\n\ndef backward" + NETWORK_GLOBAL.split("def backward")[1],
    SGD + TRAIN_PLAIN,
])
_bug("threads_vectorize", "tanh", "_vtanh = np.vectorize(math.tanh, otypes=[float])",
     "_vtanh = np.vectorize(lambda z: math.tanh(z) if z > 0 else 0.5 * math.tanh(z), otypes=[float])",
     "tanh_forward halves negative outputs; forward runs it from two threads")

# 9. train builds a dict of functions and deep-copies params ---------------------------------

_add("train_dict_deepcopy", "train deep-copies params with copy.deepcopy and calls forward/backward/update/loss "
     "through a dict of functions built inside train", [
    IMPORTS,
    ACTS_PLAIN + DENSE + LOSSES + SGD,
    NETWORK_GLOBAL,
    '''
import copy


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    ops = {"forward": forward, "backward": backward, "update": sgd_update,
           "loss": {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]}
    params = copy.deepcopy(params)
    rng = np.random.default_rng(seed)
    N = X.shape[1]
    history = []
    for epoch in range(epochs):
        order = rng.permutation(N) if batch_size is not None else np.arange(N)
        size = batch_size or N
        for start in range(0, N, size):
            idx = order[start:start + size]
            A_out, caches = ops["forward"](X[:, idx], params, activations)
            _, dA = ops["loss"](A_out, Y[:, idx])
            params = copy.deepcopy(ops["update"](params, ops["backward"](dA, caches, params, activations), learning_rate))
        history.append(ops["loss"](ops["forward"](X, params, activations)[0], Y)[0])
    return params, history
''',
])
_bug("train_dict_deepcopy", "losses", "return float(-np.sum(Y * logp) / N), (np.exp(logp) - Y) / N",
     "return float(-np.sum(Y * logp) / N), (np.exp(logp) - Y)",
     "softmax_cross_entropy gradient not divided by N")
STYLES2["train_dict_deepcopy_buggy_sgd"] = {
    "cells": _planted(STYLES2["train_dict_deepcopy"]["cells"], "v - learning_rate * grads[k]", "v - 2 * learning_rate * grads[k]"),
    "note": "BUGGY on purpose: sgd_update takes a double step; train calls it through ops['update']",
    "bug_of": "train_dict_deepcopy", "bug_question": "sgd"}

# 10. functions redefined: a draft, then the final version in a later cell ---------------------

_add("redefined", "a draft cell defines wrong sigmoid_forward, dense_backward, forward and train; later cells "
     "redefine them correctly (the globals hold the final versions; forward/backward look up by name)", [
    IMPORTS,
    '''
# first attempt (kept in the notebook)
def sigmoid_forward(Z):
    return 1 / (1 + np.exp(-Z))


def dense_backward(dZ, A_prev, W):
    return W.T @ dZ, dZ @ A_prev.T, dZ


def forward(X, params, activations):
    raise NotImplementedError


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    raise NotImplementedError
''',
    ACTS_PLAIN + DENSE + LOSSES + SGD,
    NETWORK_GLOBAL,
    TRAIN_PLAIN,
    '''
# second thoughts on relu
def relu_forward(Z):
    return np.where(Z > 0, Z, 0.0)
''',
])
_bug("redefined", "relu", "return np.where(Z > 0, Z, 0.0)", "return np.where(Z > 0, Z, Z)",
     "the last redefinition of relu_forward is the identity")

# 11. keyword calls and keyword-only helpers ---------------------------------------------------

_add("keyword_calls", "helpers with keyword-only arguments; every contract function is called with keyword "
     "arguments (dense_forward(A_prev=A, W=..., b=...), forward(X=..., params=..., activations=...))", [
    IMPORTS,
    '''
def _stable_sigmoid(Z, *, out=None):
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def _derivative(dA, fprime, *, mask=None):
    return dA * fprime if mask is None else np.where(mask, dA * fprime, 0.0)


def sigmoid_forward(Z):
    return _stable_sigmoid(Z)


def sigmoid_backward(dA, Z):
    S = _stable_sigmoid(Z)
    return _derivative(dA, S * (1.0 - S))


def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return _derivative(dA, 1.0 - np.tanh(Z) ** 2)


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def relu_backward(dA, Z):
    return _derivative(dA, 1.0, mask=Z > 0)
''',
    DENSE + LOSSES + SGD,
    '''
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A_prev=A, W=params[f"W{l}"], b=params[f"b{l}"])
        caches.append((A, Z))
        A = globals()[f"{name}_forward"](Z=Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = globals()[f"{activations[l - 1]}_backward"](dA=dA, Z=Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = dense_backward(dZ=dZ, A_prev=A_prev, W=params[f"W{l}"])
    return grads


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[loss]
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    history = []
    for epoch in range(epochs):
        order = rng.permutation(N) if batch_size is not None else np.arange(N)
        size = batch_size or N
        for start in range(0, N, size):
            idx = order[start:start + size]
            A_out, caches = forward(X=X[:, idx], params=params, activations=activations)
            _, dA = loss_fn(A_out, Y[:, idx])
            grads = backward(dA_out=dA, caches=caches, params=params, activations=activations)
            params = sgd_update(params=params, grads=grads, learning_rate=learning_rate)
        history.append(loss_fn(forward(X=X, params=params, activations=activations)[0], Y)[0])
    return params, history
''',
])
_bug("keyword_calls", "dense", "return W @ A_prev + b\n", "return W @ A_prev + b.T.sum()\n",
     "dense_forward adds the sum of b to every entry")

# 12. helpers named like a contract function's local variables ------------------------------

_add("shadowing_names", "module-level helpers named Z, dZ, grads, caches, loss, A_prev, history and params (the "
     "contract functions' local/parameter names), used inside the contract functions", [
    IMPORTS,
    '''
def Z(A_prev, W, b):          # a helper called Z: the pre-activation
    return W @ A_prev + b


def dZ(dA, fprime):           # a helper called dZ
    return dA * fprime


def A_prev(dZ, W):            # and one called A_prev
    return W.T @ dZ


def grads(keys):              # a helper called grads: an empty gradient dict in layer order
    return dict.fromkeys(keys)


def loss(name):               # a helper called loss: the loss function by name (train's parameter is also loss)
    return {"mse": mse_loss, "softmax_ce": softmax_cross_entropy}[name]


def history(values):
    return [float(v) for v in values]
''',
    '''
def sigmoid_forward(Z):
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_backward(dA, Z):
    S = sigmoid_forward(Z)
    return dZ(dA, S * (1.0 - S))


def tanh_forward(Z):
    return np.tanh(Z)


def tanh_backward(dA, Z):
    return dZ(dA, 1.0 - np.tanh(Z) ** 2)


def relu_forward(Z):
    return np.maximum(Z, 0.0)


def relu_backward(dA, Z):
    return dZ(dA, (Z > 0).astype(float))


def dense_forward(A_prev, W, b):
    return Z(A_prev, W, b)


def dense_backward(dZ, A_prev, W):
    return globals()["A_prev"](dZ, W), dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
''',
    LOSSES + SGD,
    '''
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = globals()[f"{name}_forward"](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    g = grads([f"{p}{l}" for l in range(1, len(activations) + 1) for p in "Wb"])
    dA = dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = globals()[f"{activations[l - 1]}_backward"](dA, Z)
        dA, g[f"W{l}"], g[f"b{l}"] = dense_backward(dZ, A_prev, params[f"W{l}"])
    return g


def train(X, Y, params, activations, loss, learning_rate, epochs, batch_size=None, seed=0):
    loss_fn = globals()["loss"](loss)
    N = X.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for epoch in range(epochs):
        order = rng.permutation(N) if batch_size is not None else np.arange(N)
        size = batch_size or N
        for start in range(0, N, size):
            idx = order[start:start + size]
            A_out, caches = forward(X[:, idx], params, activations)
            params = sgd_update(params, backward(loss_fn(A_out, Y[:, idx])[1], caches, params, activations), learning_rate)
        values.append(loss_fn(forward(X, params, activations)[0], Y)[0])
    return params, history(values)
''',
])
_bug("shadowing_names", "dense", "return W.T @ dZ\n", "return 2 * (W.T @ dZ)\n",
     "the helper A_prev (used by dense_backward) doubles dA_prev")

# 13 (own). contract functions as lambdas and staticmethods -------------------------------

_add("lambdas_static", "activations are module-level lambdas; dense/loss functions are staticmethods of a class, "
     "exported as contract names; forward/backward call Ops.dense_forward etc. through the class", [
    IMPORTS,
    '''
sigmoid_forward = lambda Z: np.where(Z >= 0, 1.0 / (1.0 + np.exp(-np.abs(Z))), np.exp(-np.abs(Z)) / (1.0 + np.exp(-np.abs(Z))))
sigmoid_backward = lambda dA, Z: dA * sigmoid_forward(Z) * (1.0 - sigmoid_forward(Z))
tanh_forward = lambda Z: np.tanh(Z)
tanh_backward = lambda dA, Z: dA * (1.0 - np.tanh(Z) ** 2)
relu_forward = lambda Z: np.maximum(Z, 0.0)
relu_backward = lambda dA, Z: np.where(Z > 0, dA, 0.0)


class Ops:
    @staticmethod
    def dense_forward(A_prev, W, b):
        return W @ A_prev + b

    @staticmethod
    def dense_backward(dZ, A_prev, W):
        return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)

    @staticmethod
    def mse_loss(A_out, Y):
        diff = A_out - Y
        return float(0.5 * np.sum(diff ** 2) / Y.shape[1]), diff / Y.shape[1]

    @staticmethod
    def softmax_cross_entropy(Z_out, Y):
        s = Z_out - Z_out.max(axis=0, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=0, keepdims=True))
        return float(-np.sum(Y * logp) / Y.shape[1]), (np.exp(logp) - Y) / Y.shape[1]


dense_forward, dense_backward = Ops.dense_forward, Ops.dense_backward
mse_loss, softmax_cross_entropy = Ops.mse_loss, Ops.softmax_cross_entropy
''',
    '''
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = Ops.dense_forward(A, params[f"W{l}"], params[f"b{l}"])
        caches.append((A, Z))
        A = {"sigmoid": sigmoid_forward, "tanh": tanh_forward, "relu": relu_forward, "identity": identity_forward}[name](Z)
    return A, caches


def backward(dA_out, caches, params, activations):
    grads, dA = {}, dA_out
    for l in range(len(activations), 0, -1):
        A_prev, Z = caches[l - 1]
        dZ = {"sigmoid": sigmoid_backward, "tanh": tanh_backward, "relu": relu_backward,
              "identity": identity_backward}[activations[l - 1]](dA, Z)
        dA, grads[f"W{l}"], grads[f"b{l}"] = Ops.dense_backward(dZ, A_prev, params[f"W{l}"])
    return grads
''',
    SGD + TRAIN_PLAIN.replace("mse_loss if", "Ops.mse_loss if").replace("else softmax_cross_entropy", "else Ops.softmax_cross_entropy"),
])
_bug("lambdas_static", "dense", "return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)",
     "return W.T @ dZ, dZ @ A_prev.T, 0.5 * dZ.sum(axis=1, keepdims=True)",
     "Ops.dense_backward sums db over the wrong axis; backward calls it through the class")

# 14 (own). extra optional parameters on contract functions, passed positionally -------------

_add("extra_params", "contract functions with an extra optional parameter (dense_forward(A_prev, W, b, check=True), "
     "sigmoid_forward(Z, clip=None)); forward passes the extras positionally", [
    IMPORTS,
    ACTS_PLAIN.replace("def sigmoid_forward(Z):", "def sigmoid_forward(Z, clip=None):"),
    '''
def dense_forward(A_prev, W, b, check=True):
    if check:
        assert W.shape[1] == A_prev.shape[0] and b.shape == (W.shape[0], 1)
    return W @ A_prev + b


def dense_backward(dZ, A_prev, W):
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)
''' + LOSSES + SGD,
    '''
def forward(X, params, activations):
    A, caches = X, []
    for l, name in enumerate(activations, start=1):
        Z = dense_forward(A, params[f"W{l}"], params[f"b{l}"], False)
        caches.append((A, Z))
        A = sigmoid_forward(Z, None) if name == "sigmoid" else globals()[f"{name}_forward"](Z)
    return A, caches
''' + "\n\ndef backward" + NETWORK_GLOBAL.split("def backward")[1],
    TRAIN_PLAIN,
])
_bug("extra_params", "dense", "return W @ A_prev + b\n", "return W @ A_prev + 2 * b\n",
     "dense_forward adds b twice")
STYLES2["decorated_buggy_sigmoid"] = {
    "cells": _planted(STYLES2["decorated"]["cells"], "return dA * S * (1.0 - S)", "return dA * S * (1.0 + S)"),
    "note": "BUGGY on purpose: decorated sigmoid_backward uses 1 + s; the dict BWD holds the functools.wraps wrapper (a closure)",
    "bug_of": "decorated", "bug_question": "sigmoid"}
