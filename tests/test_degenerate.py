"""Degenerate images through every registered method: a result or a plain message.

Each method (every one :func:`segcore.list_methods` returns, so a new method is covered
without an edit here) runs on a constant image, two colours (with ``k`` or ``n_segments``
8 where the method has them), 3x3, 2x2, 1x1, 1x500, 500x1, 2x500, a checkerboard, one
bright pixel, an image whose values differ by one float32 step, in gray and in colour;
with its defaults, and on the smallest and flattest of them (:data:`EVERY_CHOICE`) with
each other value of each of its choice parameters; without seeds where it can, and with
a valid seed layout where it takes seeds. Each call either
returns a valid Segmentation (labels int32 of the image's shape, values >= 0) or raises
``ValueError`` with a plain message; nothing else, and nothing runs longer than
:data:`LIMIT_S` seconds. Images that hold NaN or infinities are refused with a message
naming them, whether they arrive as arrays or as float TIFF files.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from PIL import Image

import segcore
from conftest import time_limit
from segcore.io import ImageError, load_image

METHODS = segcore.list_methods()

#: Seconds one call may take on these tiny images before it counts as a hang (the
#: slowest, a U-Net at its working scale, takes well under a second on an idle machine).
LIMIT_S = 10.0


def _colour(gray: np.ndarray, channels: int) -> np.ndarray:
    """``gray`` (H, W) as 1 channel, or as colour with the channels differing (so a
    colour method sees colour, not three equal planes)."""
    gray = gray.astype(np.float32)
    if channels == 1:
        return gray[:, :, None]
    return np.ascontiguousarray(np.stack([gray, 1 - gray, np.full_like(gray, 0.3)], 2))


def _images() -> dict[str, np.ndarray]:
    gen = np.random.default_rng(0)
    out = {}
    for c, kind in ((1, "gray"), (3, "rgb")):
        halves = np.zeros((16, 16))
        halves[:, 8:] = 1
        spot = np.zeros((16, 16))
        spot[7, 9] = 1
        step = np.full((16, 16), 0.5)
        step[4:9, 4:9] = np.nextafter(np.float32(0.5), np.float32(1))
        shapes = {
            "constant": np.full((16, 16), 0.4),
            "zeros": np.zeros((16, 16)),
            "two colours": halves,
            "3x3": gen.random((3, 3)),
            "3x3 constant": np.full((3, 3), 0.7),
            "2x2": gen.random((2, 2)),
            "1x1": np.zeros((1, 1)),
            "1x500": gen.random((1, 500)),
            "500x1": gen.random((500, 1)),
            "2x500": gen.random((2, 500)),
            "checkerboard": (np.indices((16, 16)).sum(0) % 2).astype(float),
            "one bright pixel": spot,
            "one float step": step,
        }
        for name, gray in shapes.items():
            out[f"{name}, {kind}"] = _colour(gray, c)
    return out


IMAGES = _images()
#: The shapes every choice of every choice parameter runs on (the others run the
#: defaults, and a k of 8 on two colours): the smallest, a flat one, the one whose
#: values differ by a float32 step, and the checkerboard.
EVERY_CHOICE = ("2x2", "3x3 constant", "one float step", "checkerboard")


def _variants(spec: segcore.MethodSpec) -> list[dict]:
    """The defaults, and each other value of each choice parameter on its own."""
    out = [{}]
    for p in spec.params:
        if p.kind == "choice":
            out += [{p.name: c} for c in p.choices if c != p.default]
    return out


def _seed_layouts(spec: segcore.MethodSpec, shape: tuple[int, int]) -> list:
    """No seeds where the method can do without, and a valid layout where it takes them:
    two labels at opposite corners (one label on a single pixel)."""
    h, w = shape
    layouts = [] if spec.seeds == "required" else [None]
    if spec.seeds != "none":
        layouts.append([(0, 0, 1), (h - 1, w - 1, 2)] if h * w > 1 else [(0, 0, 1)])
    return layouts


#: Words that give away an internal error rather than a message meant for a person.
INTERNAL = ("Traceback", "ndarray", "NoneType", "truth value of an array", "broadcast",
            "object at 0x", "__", "iterable", "attribute", "out of bounds for axis",
            "index ", "unsupported operand")


def assert_plain(message: str) -> None:
    """A message a person can act on: words, short, nothing from inside Python, and
    in lower case as the engine's messages start (a library's, such as numpy's "Too
    many bins for data range", start with a capital and say nothing to act on)."""
    assert message and any(ch.isalpha() for ch in message), repr(message)
    assert not message[0].isupper(), message
    assert len(message) < 400, message
    for word in INTERNAL:
        assert word not in message, message


def assert_valid(seg: segcore.Segmentation, shape: tuple[int, int]) -> None:
    assert isinstance(seg, segcore.Segmentation)
    assert seg.labels.dtype == np.int32 and seg.labels.shape == shape
    assert seg.labels.min() >= 0
    if seg.probabilities is not None:
        assert seg.probabilities.shape[:2] == shape
        assert np.isfinite(seg.probabilities).all()


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """Load what methods load on their first call (torch, the U-Nets, scikit-learn) before
    the time limits start."""
    img = _colour(np.random.default_rng(1).random((4, 4)), 3)
    for spec in METHODS:
        for params in _variants(spec):
            seeds = [(0, 0, 1), (3, 3, 2)] if spec.seeds == "required" else None
            with contextlib.suppress(ValueError):
                segcore.segment(img, spec.name, seeds=seeds, **params)


@pytest.mark.parametrize("image_name", sorted(IMAGES))
@pytest.mark.parametrize("spec", METHODS, ids=lambda s: s.name)
def test_a_result_or_a_plain_message(spec, image_name):
    image = IMAGES[image_name]
    shape = image.shape[:2]
    clusters = {}
    if image_name.startswith("two colours"):  # far more clusters than colours
        names = {p.name for p in spec.params}
        clusters = {name: 8 for name in ("k", "n_segments")
                    if name in names and spec.param(name).low <= 8 <= spec.param(name).high}
    outcomes = []
    variants = _variants(spec) if image_name.split(",")[0] in EVERY_CHOICE else [{}]
    for params in variants:
        for seeds in _seed_layouts(spec, shape):
            with time_limit(LIMIT_S):
                try:
                    seg = segcore.segment(image, spec.name, seeds=seeds, **params, **clusters)
                except ValueError as err:
                    assert_plain(str(err))
                    outcomes.append(str(err))
                    continue
            assert_valid(seg, shape)
            if seeds is not None:  # seeds name the regions
                assert set(np.unique(seg.labels)) <= {0} | {lab for *_, lab in seeds}
            outcomes.append(seg.n_regions)
    assert outcomes


@pytest.mark.parametrize("spec", METHODS, ids=lambda s: s.name)
def test_images_too_small_say_how_small_and_what_is_needed(spec):
    seeds = [(0, 0, 1)] if spec.seeds == "required" else None
    for image, says in ((IMAGES["1x500, gray"], "1 pixel tall"),
                        (IMAGES["500x1, rgb"], "1 pixel wide"),
                        (IMAGES["1x1, gray"], "1x1")):
        with pytest.raises(ValueError) as err:
            segcore.segment(image, spec.name, seeds=seeds)
        assert says in str(err.value) and "at least 2x2" in str(err.value), str(err.value)


NAN_ARRAYS = {
    "all NaN, gray": np.full((8, 8, 1), np.nan, np.float32),
    "all NaN, rgb": np.full((8, 8, 3), np.nan, np.float32),
    "one NaN": np.where(np.eye(8, dtype=bool)[:, :, None], np.nan, 0.5).astype(np.float32),
    "infinity": np.full((8, 8, 1), np.inf, np.float32),
}


@pytest.mark.parametrize("array", NAN_ARRAYS.values(), ids=NAN_ARRAYS.keys())
@pytest.mark.parametrize("spec", METHODS, ids=lambda s: s.name)
def test_nan_arrays_are_refused_by_check_image(spec, array):
    seeds = [(0, 0, 1), (7, 7, 2)] if spec.seeds == "required" else None
    with pytest.raises(ValueError, match="NaN") as err:
        segcore.segment(array, spec.name, seeds=seeds)
    assert_plain(str(err.value))
    with pytest.raises(ValueError, match="NaN"):
        segcore.check_image(array)


def _float_tiff(values: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(values.astype(np.float32), mode="F").save(buf, format="TIFF")
    return buf.getvalue()


@pytest.mark.parametrize("values", [np.full((6, 7), np.nan), np.where(np.eye(6) > 0, np.nan, 0.2),
                                    np.full((6, 6), np.inf)],
                         ids=["all NaN", "some NaN", "infinity"])
def test_a_float_tiff_of_nan_is_refused_or_loads_to_something_every_method_takes(values):
    """Whatever the loader does with a float TIFF of NaN: refuse it with a message naming
    the problem, or give a valid image that every method then handles."""
    data = _float_tiff(values)
    try:
        image = load_image(data)
    except ImageError as err:
        assert "NaN" in str(err) or "infinite" in str(err), str(err)
        assert_plain(str(err))
        return
    assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1
    for spec in METHODS:
        seeds = [(0, 0, 1), (5, 5, 2)] if spec.seeds == "required" else None
        with time_limit(LIMIT_S):
            try:
                assert_valid(segcore.segment(image, spec.name, seeds=seeds), image.shape[:2])
            except ValueError as err:
                assert_plain(str(err))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_check_image_by_bits_accepts_exactly_the_unit_interval(dtype, monkeypatch):
    """check_image first reads the values as unsigned integers (one maximum); whatever
    it decides must be what comparing the numbers decides, in blocks of rows too."""
    from segcore import _parallel

    monkeypatch.setattr(_parallel, "MIN_ROWS", 300)
    edges = [0.0, -0.0, 1.0, 0.5, np.finfo(dtype).tiny, np.nextafter(dtype(1), dtype(2)),
             -np.finfo(dtype).tiny, -1.0, 2.0, np.inf, -np.inf, np.nan]
    rng = np.random.default_rng(0)
    for value in edges:
        for where in (0, 777, 40 * 30 * 3 - 1):  # first, a middle block, last
            image = rng.random((40, 30, 3)).astype(dtype)
            image.reshape(-1)[where] = value
            valid = not (np.isnan(value) or value < 0 or value > 1)
            if valid:
                out = segcore.check_image(image)
                assert out.dtype == np.float32 and out.shape == image.shape
            else:
                with pytest.raises(ValueError, match=r"\[0, 1\]"):
                    segcore.check_image(image)
