"""Calls of the student's functions from the checks, through the sandbox: inputs must come back unchanged, failures become check failures."""

import time

from backprop_lab.callers import expect_unchanged
from backprop_lab.checking import CheckFailure, TooSlow
from backprop_lab.contract import BELOW, QUESTION_OF

from .hidden_checks import Allowed, serve
from .sandbox import BudgetExhausted, CallTimeout, Stuck, StudentError, WorkerLost


class RemoteCaller:
    """Calls student functions in the sandbox; checks inputs were left unchanged.

    Every call takes the same path in the student's process. With `standins` set (follow-through
    marking), the lower functions they name are answered by the reference, in this process.
    """

    can_substitute = True

    def __init__(self, session):
        self.session = session
        self.standins = ()
        self.failed, self.blocked = set(), {}
        self.missing = []  # functions the checks needed that the notebook does not define
        self.confined = False  # stand-ins answer only the questions a check itself leads to (see Allowed)
        self.losses = {}  # function: calls of it that ended the student's process
        self.ended = set()  # functions blocked because their calls ended the process (not a gate)
        self.own_run_ends = set()  # functions checked only with the reference's lower functions from now on
        self.log = []  # (name, args, value) of each call, for diagnosing a failure
        self.warnings = []  # (name, warning text) of each numerical warning a call raised, for advice
        self.last_seconds = 0.0
        self.seconds = {"finite differences": 0.0, "training (student's train)": 0.0}

    def call(self, name, *args, quiet=False, timeout=None):
        started = time.monotonic()
        answer = serve
        if self.standins and self.confined:  # before the hidden checks: only the check's own questions
            allowed = Allowed(name, args, self.standins)
            answer = lambda n, a, k: serve(n, a, k, allowed)  # noqa: E731
        try:
            value, after, replaced = self._guard(name, lambda: self.session.call(name, args, standins=self.standins, serve=answer, timeout=timeout))
        finally:
            self.warnings.extend((name, text) for text in getattr(self.session, "last_warnings", ()))
            self.last_seconds = time.monotonic() - started
            if name == "train":
                self.seconds["training (student's train)"] += self.last_seconds
            if quiet:
                self.seconds["finite differences"] += self.last_seconds
        expect_unchanged(name, args, after, replaced)
        if not quiet:
            self.log.append((name, args, value))
        return value

    def _lost(self, name, exc):
        """A call of `name` ended the student's process (forged replies, os._exit, a crash): after
        twice, calling it the same way again would only cost restarts. A function that calls lower
        ones and ended it on its own run may have been brought down by them: its checks go on with
        the reference standing in for them (follow-through). Otherwise it is not called again."""
        own_run = not self.standins and QUESTION_OF.get(name) in BELOW
        key = (name, own_run)
        self.losses[key] = self.losses.get(key, 0) + 1
        if self.losses[key] < 2 or name in self.blocked:
            return
        if own_run:
            self.own_run_ends.add(name)
        else:
            self.blocked[name] = f"Not counted: calling {name} ended the process running it twice ({exc}), so it is not called again."
            self.ended.add(name)

    def _guard(self, name, thunk):
        try:
            return thunk()
        except StudentError as exc:
            if exc.missing:
                if name not in self.missing:
                    self.missing.append(name)
                raise CheckFailure(f"{name} is not defined in your notebook.") from None
            if exc.type == "NotImplementedError":
                raise CheckFailure(f"{name} is not implemented yet ({exc.message}).") from None
            raise CheckFailure(f"{name} raised {exc.type}: {exc.message}") from None
        except (CallTimeout, Stuck) as exc:
            raise TooSlow(f"{name}: {exc}.") from None
        except WorkerLost as exc:
            self._lost(name, exc)
            raise CheckFailure(f"{name}: {exc}.") from None
        except BudgetExhausted as exc:
            raise CheckFailure(f"{name} was not checked: {exc}.") from None
