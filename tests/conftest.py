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
