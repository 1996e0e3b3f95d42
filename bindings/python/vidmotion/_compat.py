"""Optional numpy: zero-copy arrays when it is installed, memoryviews otherwise."""

from __future__ import annotations

import ctypes
import os
from typing import Any

try:
    if os.environ.get("VIDMOTION_NO_NUMPY"):
        raise ImportError
    import numpy as np
except ImportError:  # numpy is optional
    np = None  # type: ignore[assignment]

__all__ = ["np", "wrap_array"]

_DTYPES = {"d": "float64", "f": "float32", "B": "uint8", "I": "uint32", "q": "int64"}


def wrap_array(ptr: Any, ctype: Any, fmt: str, n: int, owner: Any,
               shape: tuple[int, ...] | None = None) -> Any:
    """A read-only view of ``n`` ``ctype`` values at ``ptr`` (a ctypes POINTER) that keeps
    ``owner`` alive: a numpy array, or a memoryview of format ``fmt`` without numpy."""
    if n <= 0 or not ptr:
        arr: Any = (ctype * 0)()
    else:
        arr = (ctype * n).from_address(ctypes.addressof(ptr.contents))
        arr._vidmotion_owner = owner  # the view -> ctypes array -> owner chain
    if np is not None:
        a = np.frombuffer(arr, dtype=_DTYPES[fmt])
        if shape is not None:
            a = a.reshape(shape)
        a.flags.writeable = False
        return a
    mv = memoryview(arr).cast("B").cast(fmt, list(shape) if shape else [n])
    return mv.toreadonly()
