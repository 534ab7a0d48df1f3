"""What a session leaves behind once it is gone (#15): nothing of its image or results.

Several sessions, each on its own uploaded picture, walk the lab (upload, Segment with
threshold and watershed, Compare, Evaluate), in the app's own process through
Streamlit's AppTest, and end. Python's own allocation tracer (``tracemalloc``, which
numpy reports its arrays to) then counts what is still held, with Streamlit's
``st.cache_data`` and segcore's store of the last few images' blurs and gradients
emptied at both readings (bounded caches: what they hold is not a session's). A module-level reference to an image or a result, kept per session,
grows this count by the pictures' size; what a session keeps in its own state goes
with it.

The load test (tests/test_load.py) runs eight real browser sessions at once on one
wave; ``python -m benchmarks.load`` runs two and reports the server's resident memory
after each.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import streamlit as st

from segcore import _memo
from test_app import choose_method, no_trouble, png, start, type_seed

#: Pixels of each session's picture: 1.2 MB as float32 RGB, so one kept per session
#: would add up to more than the limit below over the sessions.
SHAPE = (320, 400)
SESSIONS = 4
#: MB the later sessions may leave held beyond what the first one did. Measured: 0.1
#: MB, twice; with a leak put in on purpose, 5.9 MB (seglab.state keeping every image
#: chosen) and 15.6 MB (keeping every result).
LIMIT_MB = 1.5


def _picture(index: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    rr, cc = np.mgrid[:SHAPE[0], :SHAPE[1]]
    img = np.full(SHAPE + (3,), 30.0) + rng.normal(0, 6, SHAPE + (3,))
    for _ in range(3 + index):
        r, c, rad = rng.integers(40, 280), rng.integers(40, 360), rng.integers(15, 40)
        img[(rr - r) ** 2 + (cc - c) ** 2 < rad ** 2] += rng.uniform(80, 200, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


def _visit(index: int) -> None:
    at = start(sample=None)
    at.file_uploader(key="upload_image").set_value(
        (f"photo-{index}.png", png(_picture(index)), "image/png")).run()
    no_trouble(at)
    assert at.session_state["current"].shape == SHAPE
    at.switch_page("pages/lab/segment.py").run()
    no_trouble(at)
    choose_method(at, "watershed")
    type_seed(at, 20, 20)
    no_trouble(at)
    for page in ("pages/lab/compare.py", "pages/lab/evaluate.py"):
        at.switch_page(page).run()
        no_trouble(at)


def _held_mb() -> float:
    st.cache_data.clear()
    _memo.clear()  # the last few images' blurs and gradients, kept for the next slider move
    gc.collect()
    return tracemalloc.get_traced_memory()[0] / 2**20


def test_sessions_that_ended_leave_nothing_of_their_images_or_results():
    tracemalloc.start()
    try:
        _visit(0)  # the first imports, compiles and fills what every session shares
        first = _held_mb()
        for index in range(1, SESSIONS + 1):
            _visit(index)
        later = _held_mb()
    finally:
        tracemalloc.stop()
    print(f"held after the first session {first:.1f} MB, after {SESSIONS} more {later:.1f} MB")
    assert later - first <= LIMIT_MB, (
        f"{SESSIONS} sessions that ended left {later - first:.1f} MB more held than the "
        f"first did ({first:.1f} MB); each picture is "
        f"{np.prod(SHAPE) * 3 * 4 / 2**20:.1f} MB as float32")
