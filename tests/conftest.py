import contextlib
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from segcore import synthetic


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail with ``TimeoutError`` if the block runs longer than ``seconds`` (a hang).
    Tests import it: ``from conftest import time_limit``."""
    if not hasattr(signal, "setitimer"):  # pragma: no cover - not on POSIX
        yield
        return

    def stop(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def two_regions():
    """Left half dark, right half bright, with a little noise so every method has
    distinct values to work with; the halves are the exact answer."""
    s = synthetic.two_regions((40, 48))
    rng = np.random.default_rng(0)
    img = np.clip(s.image + rng.normal(0, 0.01, s.image.shape), 0, 1).astype(np.float32)
    return img, s.truth


@pytest.fixture
def blobs_image():
    return synthetic.noisy((48, 48), sigma=0.08).image


MEMBRANE_DATA = Path(__file__).resolve().parents[1].parent / "shared/data/isbi2012-membrane"


@pytest.fixture
def membrane_data() -> Path:
    """The ISBI 2012 membrane data beside the checkout (CI has it there).

    Missing data fails the test, so a checkout without it cannot pass by skipping; set
    SEGLAB_ALLOW_MISSING_DATA to skip instead.
    """
    if not MEMBRANE_DATA.is_dir():
        if os.environ.get("SEGLAB_ALLOW_MISSING_DATA"):
            pytest.skip(f"{MEMBRANE_DATA} is missing and SEGLAB_ALLOW_MISSING_DATA is set")
        pytest.fail(f"the membrane data is missing: expected {MEMBRANE_DATA}")
    return MEMBRANE_DATA


@pytest.fixture
def open_lesson():
    """A function that starts the app headless (AppTest), picks a sample on the Image
    page when asked, opens a lesson page and checks that no exception reached it:
    ``at = open_lesson("pages/learn/thresholds.py", sample=("generated", "blobs"))``."""
    import sys

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:  # the pages import their glue (seglab) from the root
        sys.path.insert(0, str(root))

    def open_(page: str, *, sample: tuple[str, str] | None = None) -> AppTest:
        at = AppTest.from_file(str(root / "app.py"), default_timeout=60).run()
        if sample is not None:
            at.button(key=f"sample.{sample[0]}.{sample[1]}").click().run()
        at.switch_page(page).run()
        assert_no_exception(at)
        return at

    return open_


def assert_no_exception(at) -> None:
    """No uncaught exception reached the page (no traceback for the learner)."""
    assert not at.exception, [e.value for e in at.exception]


def open_tab(at, name: str):
    """Open the Image page's tab whose label ends with ``name`` (only the open tab's
    content runs) and return ``at``."""
    at.session_state["image.source"] = next(t.label for t in at.tabs if t.label.endswith(name))
    at.run()
    assert_no_exception(at)
    return at
