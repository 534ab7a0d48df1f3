import os
from pathlib import Path

import numpy as np
import pytest

from segcore import synthetic


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
