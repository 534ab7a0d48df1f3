"""Long runs of methods that report nothing run in a worker process that can be
stopped (segcore.stoppable)."""

import multiprocessing
import time

import numpy as np
import pytest

import segcore
from segcore.stoppable import segment_stoppable


def test_a_run_in_a_worker_gives_what_segment_gives(blobs_image):
    seen = []
    got = segment_stoppable(blobs_image, "felzenszwalb", progress=seen.append, expected_s=60,
                            scale=50.0)
    ref = segcore.segment(blobs_image, "felzenszwalb", scale=50.0)
    np.testing.assert_array_equal(got.labels, ref.labels)
    assert got.params == ref.params and got.method == "felzenszwalb"
    assert seen and all(0 <= f < 0.95 for f in seen) and seen == sorted(seen)


def test_stopping_ends_the_worker_at_once():
    # A large random image keeps Felzenszwalb busy for many seconds; the first
    # report stops it, and no worker is left computing.
    image = np.random.default_rng(0).random((2000, 2000, 3)).astype(np.float32)

    class Stop(Exception):
        pass

    def stop(fraction):
        raise Stop

    start = time.monotonic()
    with pytest.raises(Stop):
        segment_stoppable(image, "felzenszwalb", progress=stop, expected_s=60)
    assert time.monotonic() - start < 15
    assert not multiprocessing.active_children()


def test_the_workers_error_reaches_the_caller_in_its_own_words(blobs_image):
    with pytest.raises(ValueError, match="no edges to place markers by"):
        segment_stoppable(blobs_image * 0, "watershed", progress=lambda f: None,
                          expected_s=60, auto_markers="h-minima")


def test_a_short_run_stays_in_this_process(blobs_image):
    seen = []
    segment_stoppable(blobs_image, "kmeans", progress=seen.append, expected_s=0.5)
    assert seen and not multiprocessing.active_children()


def test_a_workers_own_progress_reports_come_back(blobs_image):
    seen = []
    got = segment_stoppable(blobs_image, "chan_vese", progress=seen.append, expected_s=60)
    ref = segcore.segment(blobs_image, "chan_vese")
    np.testing.assert_array_equal(got.labels, ref.labels)
    assert seen and seen == sorted(seen) and not multiprocessing.active_children()
