"""What every demo shares: the friendly stub message, figures, widgets and one-thread timing.

The demos themselves are in the other demo_*.py modules, one demo each; import them from
backprop_lab.demos.
"""

import contextlib

FILL_IN_FIRST = "Fill in `{name}` first: this demo runs it, and it still raises NotImplementedError."

COLOURS = {"linear": "#7f7f7f", "sigmoid": "#4e79a7", "tanh": "#f28e2b", "relu": "#59a14f"}


@contextlib.contextmanager
def once_filled_in():
    """Run a demo; if it reaches a stub that is not filled in yet, say which one.

    Only NotImplementedError is caught: any other error is a real bug and shows
    its traceback as usual.

        with demos.once_filled_in():
            demos.plot_activations(...)
    """
    try:
        yield
    except NotImplementedError as exc:
        print(FILL_IN_FIRST.format(name=_raising_function(exc)))


def _raising_function(exc):
    """The name of the function that raised exc: the innermost frame of its traceback."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_code.co_name if tb is not None else ""
    if not name or name.startswith("<"):
        name = str(exc).split(":")[0].strip() or "the function above"
    return name


def _live_frontend():
    """True inside a Jupyter kernel, where widgets can be shown."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _show(fig):
    """Display a finished figure once, then free it."""
    from IPython.display import display

    display(fig)
    _pyplot().close(fig)


@contextlib.contextmanager
def _one_thread():
    """Run numpy's matrix products on one thread: for these small matrices that is the
    fastest, and it makes timings comparable from one machine to the next."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _out(text, show):
    if show:
        print(text)
    return text
