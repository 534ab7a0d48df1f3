"""Running one numpy pass over a large array on every core.

numpy's element-wise operations, ``bincount`` and fancy indexing release the GIL
but use one core each; splitting the rows of a large array into one block per core
and running the blocks in threads uses them all (on the 2-core reference machine
the per-pixel passes of k-means and EM on a 4 MP photo take half the time).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: Below this many rows one thread does the work: starting threads costs more.
MIN_ROWS = 500_000

_POOL: ThreadPoolExecutor | None = None


def workers() -> int:
    """How many threads a pass runs on: the cores this process may use.

    Examples
    --------
    >>> workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def blocks(n: int, per_row: int = 1, *, min_values: int | None = None) -> list[slice]:
    """Contiguous row blocks covering ``range(n)``, one per worker (one block for
    fewer than ``min_values`` values, :data:`MIN_ROWS` by default, each row holding
    ``per_row`` of them).

    Examples
    --------
    >>> blocks(10)
    [slice(0, 10, None)]
    """
    if n * per_row < (MIN_ROWS if min_values is None else min_values):
        return [slice(0, n)]  # (np.linspace costs 25 us: a small image's every pass paid it)
    parts = workers()
    edges = np.linspace(0, n, parts + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def run(fn, n: int, per_row: int = 1, *, min_values: int | None = None) -> list:
    """``[fn(block) for block in blocks(n, per_row, min_values=min_values)]``, the
    blocks in parallel threads.

    The calling thread works on the first block itself while the pool's threads take
    the others: handing a block to a waiting thread and hearing back costs 0.15-0.2
    ms on the 2-core reference machine, and the caller would only have waited.

    Examples
    --------
    >>> run(lambda s: s.stop - s.start, 7)
    [7]
    """
    parts = blocks(n, per_row, min_values=min_values)
    if len(parts) == 1:
        return [fn(parts[0])]
    others = [_pool().submit(fn, part) for part in parts[1:]]
    try:
        first = fn(parts[0])
    finally:  # the blocks given away finish before their arrays can go
        rest = [job.result() for job in others]
    return [first, *rest]


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="segcore")
    return _POOL


def local_filter(fn, image: np.ndarray, reach: int) -> np.ndarray:
    """``fn(image)`` for a filter whose value at a pixel depends only on the rows within
    ``reach`` of it, computed a block of rows per core: each block is filtered with
    ``reach`` rows of its neighbours around it, and only its own rows are kept, so
    the values are those of one call on the whole image (the image's own first and
    last rows are each block's edge only where they are the image's). Blurs and
    gradients of scipy and scikit-image use one core each.

    Examples
    --------
    >>> from scipy import ndimage
    >>> a = np.arange(20.0).reshape(5, 4)
    >>> bool((local_filter(lambda x: ndimage.uniform_filter(x, 3), a, 1)
    ...       == ndimage.uniform_filter(a, 3)).all())
    True
    """
    def one(rows):
        start, stop = max(rows.start - reach, 0), min(rows.stop + reach, image.shape[0])
        return fn(image[start:stop])[rows.start - start:rows.stop - start]

    parts = run(one, image.shape[0], int(np.prod(image.shape[1:])))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
