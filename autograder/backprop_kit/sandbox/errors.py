"""What can go wrong when the grader runs student code: the exceptions a Session raises."""


class StudentError(Exception):
    """Student code raised; carries the exception's type, message and traceback."""

    def __init__(self, info):
        self.type = info.get("type", "Exception")
        self.message = info.get("message", "")
        self.traceback = info.get("traceback", "")
        self.missing = bool(info.get("missing"))
        super().__init__(f"{self.type}: {self.message}")


class SetupError(Exception):
    """The grading machine cannot run student code as configured (the instructor's to fix)."""


class CallTimeout(Exception):
    """A student function ran past its time limit."""


class WorkerLost(Exception):
    """The process running student code died (or had to be killed)."""


class Stuck(WorkerLost):
    """Student code ignored the interrupt and its process had to be killed."""


class BudgetExhausted(Exception):
    """The submission's time budget or restart allowance is used up."""
