"""The frame format both sides of the sandbox speak: plain data and numeric arrays, never pickles.

A request or a reply is one frame: 8-byte little-endian body length, then the body: 4-byte
header length, a JSON header, and the raw bytes of every array, in order. Only plain data
crosses: numbers, strings, numeric arrays, and lists, tuples and dicts of them. Anything else
(a student's cache object, say) stays in the worker and crosses as an opaque handle the grader
can pass back in a later call.

The grader imports this module from the kit; the worker imports the copy of it in its
sandbox's runtime folder (`_bpk_wire.py`), so it imports nothing from the kit.
"""

import json
import os
import struct
import sys

_LEN = struct.Struct("<Q")
_HLEN = struct.Struct("<I")
_NUMERIC_KINDS = "biufc"
WARNINGS_KEPT, WARNING_TEXT = 3, 160  # per call: distinct warnings, characters of each (session checks both)


class Handle:
    """An object that stayed in the worker; only its id and type name cross."""

    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name=""):
        self.id = int(id)
        self.type_name = str(type_name)

    def __repr__(self):
        return f"<{self.type_name} object kept in the student's process>"


class ProtocolError(Exception):
    """A frame that breaks the wire format or its limits."""


# -- encoding ---------------------------------------------------------------


def encode(obj, store=None):
    """Return (tree, arrays): a JSON-able tree and the arrays it points to.

    `store(obj) -> id` keeps unencodable objects behind a handle; without it
    they cross as a description of their type only.
    """
    np = sys.modules.get("numpy")
    arrays = []

    def enc(x, depth):
        if depth > 64:
            raise ProtocolError("value nested too deeply")
        if x is None or isinstance(x, (bool, str)):
            return x
        if type(x) is int:
            return x if abs(x) < 2**63 else {"__big__": str(x)}
        if type(x) is float:
            return {"__f__": repr(x)} if x != x or x in (float("inf"), float("-inf")) else x
        if np is not None and isinstance(x, np.ndarray) and x.dtype.kind in _NUMERIC_KINDS:
            arrays.append(np.array(x, dtype=x.dtype.newbyteorder("="), order="C", subok=False))
            return {"__a__": len(arrays) - 1}
        if np is not None and isinstance(x, np.generic) and x.dtype.kind in _NUMERIC_KINDS:
            arrays.append(np.array(x, dtype=x.dtype.newbyteorder("=")).reshape(()))
            return {"__s__": len(arrays) - 1}
        if isinstance(x, Handle):
            return {"__h__": x.id, "t": x.type_name}
        if type(x) is list:
            return [enc(v, depth + 1) for v in x]
        if type(x) is tuple:
            return {"__t__": [enc(v, depth + 1) for v in x]}
        if type(x) is dict and all(type(k) is str for k in x):
            return {"__d__": {k: enc(v, depth + 1) for k, v in x.items()}}
        type_name = type(x).__name__
        if store is None:
            return {"__o__": type_name}
        return {"__h__": store(x), "t": type_name}

    return enc(obj, 0), arrays


def decode(tree, arrays, resolve=None):
    """Inverse of encode. `resolve(id)` turns a handle back into its object."""
    np = sys.modules.get("numpy")

    def dec(x):
        if isinstance(x, list):
            return [dec(v) for v in x]
        if not isinstance(x, dict):
            return x
        if "__a__" in x:
            return arrays[x["__a__"]]
        if "__s__" in x:
            return arrays[x["__s__"]].reshape(())[()]
        if "__f__" in x:
            return float(x["__f__"])
        if "__big__" in x:
            return int(x["__big__"])
        if "__t__" in x:
            return tuple(dec(v) for v in x["__t__"])
        if "__d__" in x:
            return {k: dec(v) for k, v in x["__d__"].items()}
        if "__h__" in x:
            return resolve(x["__h__"]) if resolve else Handle(x["__h__"], x.get("t", ""))
        if "__o__" in x:
            return Handle(-1, x["__o__"])
        raise ProtocolError("a value with an unknown tag")

    if np is None and arrays:
        raise ProtocolError("arrays received but numpy is not loaded")
    return dec(tree)


def pack(header, arrays=()):
    metas = [[a.dtype.str, list(a.shape)] for a in arrays]
    head = json.dumps({"h": header, "m": metas}, allow_nan=False).encode()
    body = [_HLEN.pack(len(head)), head] + [a.tobytes() for a in arrays]
    size = sum(len(b) for b in body)
    return _LEN.pack(size) + b"".join(body)


def unpack(body, max_header=None):
    """Split a frame body into (header, arrays), validating every array.

    Raises ProtocolError, whose message never quotes the frame (the other side may be hostile),
    for anything that breaks the format; a header longer than `max_header` bytes is refused
    before it is parsed, so what parsing costs stays bounded.
    """
    import numpy as np

    if len(body) < _HLEN.size:
        raise ProtocolError("frame too short")
    (hlen,) = _HLEN.unpack_from(body)
    if max_header is not None and hlen > max_header:
        raise ProtocolError(f"a header of {hlen} bytes, over the limit of {max_header}")
    try:
        meta = json.loads(bytes(body[_HLEN.size : _HLEN.size + hlen]))
        header, metas = meta["h"], meta["m"]
        if not isinstance(metas, list):
            raise TypeError("array list")
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ProtocolError("unreadable header") from None
    arrays, offset = [], _HLEN.size + hlen
    for item in metas:
        try:
            dtype_str, shape = item
            dtype = np.dtype(dtype_str) if type(dtype_str) is str else None
        except (TypeError, ValueError):
            raise ProtocolError("unreadable array description") from None
        if dtype is None or dtype.kind not in _NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise ProtocolError("an array of a refused type")
        if type(shape) is not list or len(shape) > 32 or not all(type(n) is int and n >= 0 for n in shape):
            raise ProtocolError("bad array shape")
        nbytes = dtype.itemsize
        for n in shape:
            nbytes *= n
        if offset + nbytes > len(body):
            raise ProtocolError("array runs past the frame")
        arr = np.frombuffer(body, dtype=dtype, count=nbytes // dtype.itemsize if dtype.itemsize else 0, offset=offset)
        arrays.append(arr.reshape(shape).copy())
        offset += nbytes
    return header, arrays


def read_frame(fd, max_bytes):
    size = _LEN.unpack(_read_exact(fd, _LEN.size))[0]
    if size > max_bytes:
        raise ProtocolError(f"reply of {size} bytes is over the limit of {max_bytes}")
    return _read_exact(fd, size)


def _read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
