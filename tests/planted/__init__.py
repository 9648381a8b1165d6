"""The one catalogue of planted bugs and correct variants that the tests play as students."""

# Each entry is written the way a student would write it in the notebook, or, where the
# bug is a line or two in a long function, made by `plant` from the reference. Sources
# are complete `def`s that use `np`, and they may call the contract's other functions
# (sigmoid_forward, dense_backward, ...) or the handout helpers identity_forward and
# identity_backward. To play them as a student would, exec the reference source into
# a namespace, then exec `setup` (if any) and each source string into that namespace.
# Functions are then looked up through that namespace's globals, so a buggy building
# block also reaches forward, backward and train.
#
# BUGS[bug_id] = {
#     "question":    the question the bug belongs to: it loses points there, and only there,
#     "mistake":     one line saying what the student got wrong,
#     "functions":   {function_name: source},
#     "setup":       optional notebook state the sources rely on (e.g. a stray global),
#     "named_above": the questions above the bug's own (network, train) whose checks break
#                    with the student's own functions: follow-through marking counts them,
#                    and their note names the bug's question,
#     "mentions":    strings that a failing check's message in the bug's own question
#                    contains: the function and, for arrays, the quantity,
#     "hint":        the id the grader names the bug with, "Hint [id]": an entry of the
#                    feedback catalogue (backprop_kit/hints.py, CATALOGUE or its
#                    ignores-its-arguments detector), or None where no hint matches (a
#                    function that changes its input is told so by the check itself),
# }
# Every entry of hints.CATALOGUE has at least one bug here that triggers it.
#
# CORRECT_VARIANTS[variant_id] = {"question", "functions", "note"}: correct code written
# differently from the reference. Each one should get full marks in every question.

from .activations import BUGS as _ACTIVATIONS
from .correct import CORRECT_VARIANTS
from .dense import BUGS as _DENSE
from .losses import BUGS as _LOSSES
from .network import BUGS as _NETWORK

BUGS = {**_ACTIVATIONS, **_DENSE, **_LOSSES, **_NETWORK}
assert len(BUGS) == sum(map(len, (_ACTIVATIONS, _DENSE, _LOSSES, _NETWORK))), "a bug id is used twice"

__all__ = ["BUGS", "CORRECT_VARIANTS"]
