"""Every case of the bad-file corpus (tests/corpus.py), through segcore.io and through
the app: it loads (with a note saying what was converted) or it is refused with a
message a person understands; in the app never a traceback, and the session keeps
its image, settings, seeds and results."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from segcore.io import ImageError, load_image_with_info, load_mask

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import CASES, MASK_FOR  # noqa: E402


def test_the_corpus_is_as_large_as_promised():
    assert len(CASES) >= 30 and len({c.name for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == {"loads", "refused"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_segcore_loads_or_refuses_in_words(case):
    data = case.build()
    if case.outcome == "refused":
        with pytest.raises(ImageError) as caught:
            (load_mask(data, shape=MASK_FOR) if case.mask else load_image_with_info(data))
        assert case.text in str(caught.value), str(caught.value)
        assert "Traceback" not in str(caught.value)
        return
    if case.mask:
        truth, _, note = load_mask(data, shape=MASK_FOR)
        assert truth.shape == MASK_FOR and truth.dtype == np.int32
        assert case.text in note, note
        return
    image, info = load_image_with_info(data)
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] in (1, 3)
    assert np.isfinite(image).all() and 0 <= image.min() and image.max() <= 1
    assert (info.height, info.width) == image.shape[:2]
    assert not case.text or any(case.text in note for note in info.notes), info.notes


# --------------------------------------------------------------------------- in the app

from conftest import open_tab  # noqa: E402
from test_app import choose_method, no_trouble, png, start, texts, type_seed  # noqa: E402


@pytest.fixture(scope="module")
def session():
    """One visitor who made a result, placed seeds and moved a slider, then uploads every
    corpus file in turn on the Image page (what a confused user might well do)."""
    at = start(("generated", "blobs"), "pages/lab/segment.py")
    choose_method(at, "random_walker")
    type_seed(at, 10, 10)
    choose_method(at, "kmeans")
    at.slider(key="segment.kmeans.k").set_value(2).run()
    no_trouble(at)
    at.switch_page("pages/lab/image.py").run()
    open_tab(at, "Upload")
    first = at.session_state["current"]
    return at, first


def _kept_state(at, first):
    seeds = at.session_state["seeds"].get(first.key)
    results = at.session_state["results"].get(first.key, {})
    kept = at.session_state["_kept_widget_values"].get("segment.kmeans.k")
    return seeds, sorted(results), kept


def _upload(at, key: str, name: str, data: bytes):
    turn = at.session_state[key + ".turn"] if key + ".turn" in at.session_state else 0
    widget = key if turn == 0 else f"{key}.{turn}"
    at.file_uploader(key=widget).set_value((name, data, "application/octet-stream")).run()
    no_trouble(at)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_the_app_shows_each_outcome_in_words_and_loses_nothing(session, case):
    at, first = session
    before = _kept_state(at, first)
    assert before[0] == [(10, 10, 1)] and before[1] and before[2] == 2
    if case.mask and at.session_state["current"].shape != MASK_FOR:
        _upload(at, "upload_image", "for-masks.png", png(np.full(MASK_FOR, 90, np.uint8)))
    was = at.session_state["current"]
    key = "upload_mask" if case.mask else "upload_image"
    _upload(at, key, case.name, case.build())
    now = at.session_state["current"]
    errors = texts(at.error)
    if case.outcome == "refused":
        assert case.text in errors and "could not be used" in errors, errors
        assert (now.key, now.truth_key) == (was.key, was.truth_key), "the session keeps its image"
        turn = at.session_state[key + ".turn"]
        assert at.file_uploader(key=f"{key}.{turn}").value is None, "the refused file is dropped"
    else:
        assert not at.error, errors
        if case.mask:
            assert now.key == was.key and now.truth.shape == MASK_FOR and case.text in now.truth_note
        else:
            assert now.name == case.name and now.key != was.key
    assert _kept_state(at, first) == before, "seeds, results and settings survive"


def test_a_smaller_mask_is_resized_on_request(session):
    at, _ = session
    _upload(at, "upload_image", "for-masks.png", png(np.full(MASK_FOR, 90, np.uint8)))
    small = next(c for c in CASES if c.name == "mask-smaller.png")
    _upload(at, "upload_mask", small.name, small.build())
    assert "can be resized to fit" in texts(at.error)
    at.button(key="upload_mask.resize").click().run()
    no_trouble(at)
    cur = at.session_state["current"]
    assert cur.truth.shape == MASK_FOR and set(np.unique(cur.truth)) == {1, 2}
    assert "resized from 30 × 20" in cur.truth_note and not at.error


def test_file_names_are_shown_as_typed_and_never_reach_a_path(session):
    at, _ = session
    name = "../../etc/<script>alert('x')<\\script> **bold** [a](b) $x$ :red[r].png"
    _upload(at, "upload_image", name, png(np.full((8, 8), 30, np.uint8)))
    cur = at.session_state["current"]
    assert "/" not in cur.name and cur.name.endswith(".png")
    shown = at.subheader[0].value
    for raw in ("<script>", "**bold**", "[a](b)", "$x$", ":red[r]"):
        assert raw not in shown, shown  # every markdown-active character escaped
    assert shown.replace("\\", "") == cur.name.replace("\\", "")
