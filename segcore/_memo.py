"""What a method computed on an image, kept for the next call on the same image.

A slider moves one parameter at a time: the watershed's marker prominence changes
its markers, not the blurred image, its threshold or its distance maps. Keyed by a
hash of the input's bytes (a few milliseconds for a megapixel) and the settings
they depend on, a small store keeps those between calls in this process: from a
notebook, the CLI or the app alike.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable

import numpy as np

from segcore import _parallel

#: How many results are kept (the oldest goes first).
SIZE = 6

_STORE: OrderedDict[tuple, Any] = OrderedDict()
_LOCK = threading.Lock()


def fingerprint(array: np.ndarray) -> str:
    """A hash of an array's shape, type and values.

    Examples
    --------
    >>> fingerprint(np.zeros(3)) == fingerprint(np.zeros(3)), fingerprint(np.zeros(3)) == fingerprint(np.ones(3))
    (True, False)
    """
    array = np.ascontiguousarray(array)
    data = memoryview(array).cast("B") if array.size else b""
    # SHA-256 (the CPU's own instructions where it has them: half of BLAKE2's time
    # here), a block of bytes per core (hashlib lets go of the GIL): a 1 MP float
    # image in 4 ms instead of 15-23 ms, paid on every slider move of a method that
    # keeps its work. The blocks depend on the number of cores, which is fixed for
    # the life of the store.
    parts = _parallel.run(lambda rows: hashlib.sha256(data[rows]).digest(), len(data))
    digest = hashlib.sha256(b"".join(parts))
    digest.update(f"{array.shape}{array.dtype}".encode())
    return digest.hexdigest()


def cached(name: str, array: np.ndarray, settings: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, or what it returned last time for the same ``name``, array
    values and ``settings``. Callers must not modify what they get back.

    Examples
    --------
    >>> calls = []
    >>> a = cached("demo", np.zeros(2), (1,), lambda: calls.append(1) or "done")
    >>> b = cached("demo", np.zeros(2), (1,), lambda: calls.append(1) or "done")
    >>> a, b, len(calls)
    ('done', 'done', 1)
    """
    key = (name, fingerprint(array), settings)
    with _LOCK:
        if key in _STORE:
            _STORE.move_to_end(key)
            return _STORE[key]
    value = read_only(compute())  # shared with later calls: nobody may change it
    with _LOCK:
        _STORE[key] = value
        while len(_STORE) > SIZE:
            _STORE.popitem(last=False)
    return value


def read_only(value: Any) -> Any:
    """Mark the arrays of a value kept for others read-only and return it: the value
    itself, or the arrays one level inside it (a tuple's or list's items, a dict's
    values, a dataclass's fields).

    Examples
    --------
    >>> kept = read_only((np.zeros(2), "notes"))
    >>> kept[0].flags.writeable
    False
    """
    if isinstance(value, dict):
        parts = value.values()
    elif hasattr(value, "__dataclass_fields__"):
        parts = vars(value).values()
    elif isinstance(value, (tuple, list)):
        parts = value
    else:
        parts = (value,)
    for part in parts:
        if isinstance(part, np.ndarray):
            part.flags.writeable = False
    return value


def clear() -> None:
    """Forget everything kept (benchmarks time cold calls).

    Examples
    --------
    >>> clear()
    """
    with _LOCK:
        _STORE.clear()
