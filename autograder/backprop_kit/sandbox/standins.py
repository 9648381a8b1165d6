"""Stand-ins: a student's lower functions answered, for one call, by someone else (follow-through marking).

The worker runs them (as the copy `_bpk_standins.py` in its sandbox) so that a call's lower
functions ask the grader for the reference's answer; the kit's own checks use them in the
grader's process too (hidden_checks.local_caller). This module imports nothing from the kit.
"""


def _standin(*args, _bpk_name="", _bpk_ask=None, **kwargs):
    return _bpk_ask(_bpk_name, args, kwargs)


_STANDIN_CODES = {0: _standin.__code__}


def _standin_code(free):
    """The stand-in's code with `free` free variables: a closure's code can only be swapped for
    code with as many. The variables are never read."""
    if free not in _STANDIN_CODES:
        names = [f"_bpk_cell{i}" for i in range(free)]
        source = "def _outer():\n" + "".join(f"    {v} = None\n" for v in names)
        source += "    def _standin(*args, _bpk_name='', _bpk_ask=None, **kwargs):\n"
        source += f"        if False:\n            ({', '.join(names)},)\n"
        source += "        return _bpk_ask(_bpk_name, args, kwargs)\n    return _standin\n"
        scope = {}
        exec(source, scope)  # noqa: S102 - our own fixed text
        _STANDIN_CODES[free] = scope["_outer"]().__code__
    return _STANDIN_CODES[free]


class substituted:
    """For the duration, the namespace's functions `names` answer through `ask(name, args, kwargs)`.

    The student's own objects are changed in place, so a dict, a class or a default argument
    that holds them reaches the stand-in too: a function gets the stand-in's code, a
    functools.partial the stand-in as its function, a callable object a class whose __call__
    is the stand-in. Anything else (or a missing name) is replaced by name. Everything is put
    back on exit.
    """

    def __init__(self, namespace, names, ask):
        self.namespace, self.names, self.ask = namespace, tuple(names), ask
        self.saved = []

    def __enter__(self):
        import functools
        import types

        for name in self.names:
            kw = {"_bpk_name": name, "_bpk_ask": self.ask}
            standin = types.FunctionType(_standin.__code__, {}, name)
            standin.__kwdefaults__ = kw
            fn = self.namespace.get(name, _MISSING)
            if type(fn) is types.FunctionType:
                self.saved.append(("code", fn, (fn.__code__, fn.__defaults__, fn.__kwdefaults__)))
                fn.__code__, fn.__defaults__, fn.__kwdefaults__ = _standin_code(len(fn.__closure__ or ())), None, kw
                continue
            if type(fn) is functools.partial:
                self.saved.append(("partial", fn, fn.__reduce__()[2]))
                fn.__setstate__((standin, (), {}, None))
                continue
            if callable(fn) and not isinstance(fn, type) and hasattr(fn, "__dict__"):
                try:
                    cls = type(fn)
                    fn.__class__ = type(cls.__name__, (cls,), {"__call__": lambda self, *a, _s=standin, **k: _s(*a, **k)})
                    self.saved.append(("class", fn, cls))
                    continue
                except TypeError:
                    pass
            self.saved.append(("name", name, fn))
            self.namespace[name] = standin
        return self

    def __exit__(self, *exc):
        for kind, target, old in reversed(self.saved):
            if kind == "code":
                target.__code__, target.__defaults__, target.__kwdefaults__ = old
            elif kind == "partial":
                target.__setstate__(old)
            elif kind == "class":
                target.__class__ = old
            elif old is _MISSING:
                self.namespace.pop(target, None)
            else:
                self.namespace[target] = old
        self.saved = []


_MISSING = object()
