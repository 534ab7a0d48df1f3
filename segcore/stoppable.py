"""Running a method so that a person can watch it and stop it, even where the
method is one call into a library that reports nothing until it ends.

A long run (expected to take more than :data:`IN_PROCESS_S`) runs in a worker
process: this process waits for it and reports the method's own progress where
it has any (k-means, EM, Chan-Vese, the random walker's solves, the U-Net), else
an estimate from the time it is expected to take. When ``progress`` raises (the
user pressed Stop, or their browser went away) the worker is ended at once, even
in the middle of one library call that reports nothing (a random walker's
multigrid setup, Felzenszwalb), so nothing keeps computing for nobody.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Callable

import numpy as np

from segcore.registry import Segmentation, get_method, segment

#: A run expected to take less than this many seconds stays in this process: a
#: worker takes about a second to start (it imports the engine).
IN_PROCESS_S = 3.0
#: How often the waiting process reports (seconds).
REPORT_EVERY_S = 0.2


def estimate(elapsed: float, expected: float | None) -> float:
    """How far a run is, ``0..1``, from the seconds it has taken and the seconds it
    is expected to take: in proportion up to 95% at the expected time, then
    creeping towards 100% (a run can take longer than expected, never report done
    before it is). With no expectation, ``elapsed / (elapsed + 30)``.

    Examples
    --------
    >>> estimate(5, 10), estimate(10, 10), round(estimate(40, 10), 3), estimate(30, None)
    (0.475, 0.95, 0.988, 0.5)
    """
    if not expected or expected <= 0:
        return elapsed / (elapsed + 30.0)
    if elapsed <= expected:
        return 0.95 * elapsed / expected
    return 1 - 0.05 * expected / elapsed


def _work(conn, image, method, seeds, params) -> None:  # pragma: no cover - in the worker
    try:
        # A method's own reports travel back to the waiting process.
        report = ((lambda f: conn.send(("progress", float(f))))
                  if get_method(method).reports_progress else None)
        conn.send(("ok", segment(image, method, seeds=seeds, progress=report, **params)))
    except Exception as err:  # sent back and raised in the caller, in its own words
        conn.send(("error", err))
    finally:
        conn.close()


def segment_stoppable(image: np.ndarray, method: str, *, seeds=None,
                      progress: Callable[[float], None] | None = None,
                      expected_s: float | None = None, **params) -> Segmentation:
    """:func:`segcore.segment`, stoppable: ``progress(fraction)`` is called while the
    method runs and an exception it raises stops the run and is raised here.

    The method runs here when ``progress`` is None or ``expected_s`` (seconds, e.g.
    a preview's time scaled to the full image's pixels) is under
    :data:`IN_PROCESS_S`; past that in a worker process, with the method's own
    reports (or :func:`estimate`) passed on every :data:`REPORT_EVERY_S` seconds.

    Examples
    --------
    >>> img = np.zeros((16, 16, 1), np.float32); img[:, 8:] = 1
    >>> seen = []
    >>> segment_stoppable(img, "felzenszwalb", progress=seen.append, expected_s=0.01,
    ...                   min_size=20).n_regions
    2
    """
    spec = get_method(method)
    if progress is None or (expected_s or 0) < IN_PROCESS_S:
        return segment(image, method, seeds=seeds,
                       progress=progress if spec.reports_progress else None, **params)
    # "spawn": a fresh interpreter, safe to start from a process with threads (a server).
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    worker = context.Process(target=_work, args=(send, image, method, seeds, params),
                             daemon=True, name=f"segcore-{method}")
    worker.start()
    send.close()
    start, reported, shown = time.monotonic(), None, 0.0
    try:
        while True:
            if receive.poll(REPORT_EVERY_S):
                status, value = receive.recv()
                if status != "progress":
                    break
                reported = value
            elif not worker.is_alive() and not receive.poll(0):
                raise RuntimeError(f"the worker running {method} ended without a result "
                                   f"(exit code {worker.exitcode})")
            # The method's own last report, else the estimate (never going back):
            # either way a chance for the caller to stop the run.
            shown = max(shown, reported if reported is not None
                        else estimate(time.monotonic() - start, expected_s))
            progress(shown)
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join(timeout=10)
        receive.close()
    if status == "error":
        raise value
    return value
