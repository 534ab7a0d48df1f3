"""Property-based tests (Hypothesis): whatever arrives, only the documented exceptions escape.

- Bytes into the loaders (``load_image``, ``load_image_with_info``, ``load_mask``):
  arbitrary bytes, arbitrary bytes behind the magic numbers of every supported format,
  and real small files cut short or with bytes changed. Only ``segcore.ImageError``
  may escape, and a file that loads gives a valid image or mask.
- Every registered method's parameters: values inside their declared ranges succeed on
  a small valid image; values outside them, and values of the wrong type (text, None,
  NaN, inf, huge whole numbers, arrays), raise ``ValueError`` naming the parameter.
- Every seed layout for the methods that take seeds: valid layouts (one label, many
  labels, duplicate points, marker images) succeed and label only with the seeds'
  labels; bad ones (out of bounds, label 0 or negative, junk, wrong length) raise
  ``ValueError``.

Every call runs under a time limit (a hang fails the test); runs are derandomized
(the same examples every time) and keep no example database, so CI is reproducible.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

import segcore
from conftest import time_limit
from segcore.io import ImageError, load_image, load_image_with_info, load_mask
from segcore.registry import MAX_SEED_LABEL

METHODS = segcore.list_methods()
SEEDED = [m for m in METHODS if m.seeds != "none"]

# Deadlines are generous: the machine running the suite may be shared and slow. A hang
# is caught by the time limit around every call, not by the deadline.
FAST = settings(max_examples=60, deadline=2000, derandomize=True, database=None)
RUNS = settings(max_examples=6, deadline=20_000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # each example runs a method


# --------------------------------------------------------------------------- loaders


def _encode(array: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _real_files() -> dict[str, bytes]:
    """Small valid files in every supported format and the usual pixel layouts."""
    gen = np.random.default_rng(0)
    rgb = gen.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    gray = gen.integers(0, 256, (6, 5), dtype=np.uint8)
    two = np.where(gray > 127, 255, 0).astype(np.uint8)
    files = {
        "png-rgb": _encode(rgb, "PNG"),
        "png-gray": _encode(gray, "PNG"),
        "png-16bit": _encode(gray.astype(np.uint16) * 257, "PNG"),
        "png-mask": _encode(two, "PNG"),
        "jpeg": _encode(rgb, "JPEG", quality=80),
        "gif": _encode(gray, "GIF"),
        "tiff-rgb": _encode(rgb, "TIFF"),
        "tiff-float": _encode(gray.astype(np.float32) / 255, "TIFF"),
        "bmp": _encode(rgb, "BMP"),
        "webp": _encode(rgb, "WEBP", lossless=True),
    }
    palette = Image.fromarray(gray).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    buf = io.BytesIO()
    palette.save(buf, format="PNG", transparency=0)
    files["png-palette"] = buf.getvalue()
    return files


REAL = _real_files()
MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"\xff\xd8\xff",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
    b"II+\x00",
    b"BM",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
]

arbitrary = st.binary(max_size=512)
behind_magic = st.builds(lambda magic, tail: magic + tail, st.sampled_from(MAGIC),
                         st.binary(max_size=512))


@st.composite
def damaged(draw):
    """A real file cut short and/or with a few bytes changed."""
    data = bytearray(REAL[draw(st.sampled_from(sorted(REAL)))])
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut]) if draw(st.booleans()) else bytes(data)


any_bytes = st.one_of(arbitrary, behind_magic, damaged())


def _check_image(image: np.ndarray) -> None:
    assert image.dtype == np.float32 and image.ndim == 3 and image.shape[2] in (1, 3)
    assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1


@FAST
@given(data=any_bytes)
@example(data=b"")
@example(data=REAL["png-rgb"])
def test_load_image_raises_only_image_error(data):
    with time_limit(10):
        try:
            image = load_image(data)
        except ImageError as err:
            assert str(err)
            return
    _check_image(image)


@FAST
@given(data=any_bytes)
def test_load_image_with_info_raises_only_image_error(data):
    with time_limit(10):
        try:
            image, info = load_image_with_info(io.BytesIO(data))
        except ImageError as err:
            assert str(err)
            return
    _check_image(image)
    assert (info.height, info.width, info.channels) == image.shape


#: A palette PNG whose pixel data is cut short (load_mask once let an OSError escape
#: from its second read of the palette indices).
CUT_PALETTE_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x05\x00\x00\x00\x06\x02\x03\x00\x00"
    b"\x00v\x95\xbc\xd8\x00\x00\x00\x0cPLTE\xde\xde\xde\xb2\xb2\xb2zzz\x11\x11\x11\xe0\xea"
    b"\x96\xff\x00\x00\x00\x01tRNS\x00@\xe6\xd8f\x00\x00\x00\x1aIDAT\x00\x9c")


def test_load_mask_on_a_cut_palette_png_raises_image_error():
    with pytest.raises(ImageError):
        load_mask(CUT_PALETTE_PNG)


def _flipped_png() -> bytes:
    """A 64x64 PNG with one byte of its pixel data flipped: Pillow refuses to decode it
    ("broken data stream")."""
    rgb = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    data = bytearray(_encode(rgb, "PNG"))
    data[len(data) // 2] ^= 0xFF
    return bytes(data)


def test_a_png_whose_pixel_data_is_damaged_is_refused():
    data = _flipped_png()
    with pytest.raises(OSError):  # Pillow itself refuses it
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    with pytest.raises(ImageError):
        load_image(data)


@FAST
@given(data=any_bytes, zero=st.sampled_from(["class", "ignore"]))
@example(data=REAL["png-mask"], zero="class")
@example(data=CUT_PALETTE_PNG, zero="class")
def test_load_mask_raises_only_image_error(data, zero):
    with time_limit(10):
        try:
            truth, ignore, note = load_mask(data, zero=zero)
        except ImageError as err:
            assert str(err)
            return
    assert truth.dtype == np.int32 and truth.ndim == 2 and note
    assert ignore in (None, 0)


# --------------------------------------------------------------------------- parameters


def _image(channels: int) -> np.ndarray:
    """24x24 round bright cells on a dark background with noise: every value distinct,
    a histogram with two peaks; the colour variant has a different hue per half."""
    gray = segcore.synthetic.blobs((24, 24), n=4).image
    if channels == 1:
        return gray
    rgb = np.concatenate([gray, gray[::-1], gray[:, ::-1]], axis=2)
    return np.ascontiguousarray(rgb)


IMAGES = {1: _image(1), 3: _image(3)}


def in_range(p: segcore.Param) -> st.SearchStrategy:
    """Valid values of ``p``: numbers in ``[low, high]`` (as Python or numpy numbers, or
    as text like the CLI's ``--set``), one of the choices, true or false."""
    if p.kind == "int":
        values = st.integers(math.ceil(p.low), math.floor(p.high))
        return st.one_of(values, values.map(np.int64), values.map(str), values.map(float))
    if p.kind == "float":
        values = st.floats(p.low, p.high, allow_nan=False, allow_infinity=False)
        single = values.map(np.float32).filter(lambda v: p.low <= float(v) <= p.high)
        return st.one_of(values, single, values.map(repr))
    if p.kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from(["true", "false", "yes", "off", 0, 1]))
    return st.one_of(st.sampled_from(p.choices), st.sampled_from(p.choices).map(str))


def _not_a_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return True
    return False


JUNK = st.one_of(
    st.none(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 10**400, -(10**400),
                     10**5000, 1e308, object(), complex(1, 1), b"5", [1, 2], (3,), {"a": 1},
                     np.array([1.0, 2.0]), np.array([[3]]), np.float64("nan"),
                     "~nobody-here/model.pt", "a" * 5000, "nan", "inf", "", " ", "\x00"]),
)


def out_of_range(p: segcore.Param) -> st.SearchStrategy:
    """Values ``p`` must refuse."""
    if p.kind in ("int", "float"):
        below = st.floats(max_value=p.low, exclude_max=True, allow_nan=False, allow_infinity=False)
        above = st.floats(min_value=p.high, exclude_min=True, allow_nan=False,
                          allow_infinity=False)
        words = st.text(max_size=12).filter(_not_a_number)
        wrong = [below, above, words, st.booleans(), JUNK.filter(lambda v: v is not None)]
        if p.kind == "int":
            whole_below = st.integers(max_value=math.ceil(p.low) - 1)
            whole_above = st.integers(min_value=math.floor(p.high) + 1)
            fraction = st.floats(p.low, p.high).filter(lambda v: v != int(v))
            wrong += [whole_below, whole_above, fraction]
        return st.one_of(wrong)
    if p.kind == "bool":
        return st.one_of(st.integers().filter(lambda v: v not in (0, 1)),
                         st.floats().filter(lambda v: v not in (0, 1)),
                         st.text(max_size=8).filter(
                             lambda t: t.strip().lower() not in
                             ("1", "true", "yes", "on", "0", "false", "no", "off")),
                         JUNK.filter(lambda v: v is not None))
    names = {str(c) for c in p.choices}
    return st.one_of(st.text(max_size=20).filter(lambda t: t not in names),
                     st.integers().filter(lambda v: str(v) not in names),
                     st.booleans(), JUNK.filter(lambda v: v is not None))


def _valid(seg: segcore.Segmentation, shape: tuple[int, int]) -> None:
    assert seg.labels.dtype == np.int32 and seg.labels.shape == shape
    assert seg.labels.min() >= 0
    if seg.probabilities is not None:
        assert seg.probabilities.shape[:2] == shape
        assert np.isfinite(seg.probabilities).all()


def _valid_seeds(spec, shape):
    h, w = shape
    return [(h // 4, w // 4, 1), (3 * h // 4, 3 * w // 4, 2)] if spec.seeds == "required" \
        else None


@pytest.mark.parametrize("spec", METHODS, ids=lambda s: s.name)
@RUNS
@given(data=st.data())
def test_values_inside_the_ranges_succeed(spec, data):
    params = {p.name: data.draw(in_range(p), label=p.name) for p in spec.params
              if data.draw(st.booleans(), label=f"give {p.name}")}
    image = IMAGES[data.draw(st.sampled_from([1, 3]), label="channels")]
    with time_limit(30):
        seg = segcore.segment(image, spec.name, seeds=_valid_seeds(spec, image.shape[:2]),
                              **params)
    _valid(seg, image.shape[:2])


#: Settings inside the ranges that this search found failing, kept as fixed cases.
FOUND = [
    # no pixel's gradient below h times the strongest: "no markers were found; lower 'h'"
    # (lowering h finds fewer flat areas, not more)
    ("watershed", dict(auto_markers="low-gradient", h=0.001, sigma=0.0)),
    # SLIC made 7 superpixels from n_segments=50 at low compactness: "fewer than k=20"
    ("spectral", dict(k=20, n_segments=50, compactness=0.01, space="rgb")),
]


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name,params", FOUND, ids=[name for name, _ in FOUND])
def test_settings_the_search_found_succeed(name, params, channels):
    image = IMAGES[channels]
    with time_limit(30):
        _valid(segcore.segment(image, name, **params), image.shape[:2])


@pytest.mark.parametrize("spec", [m for m in METHODS if m.params], ids=lambda s: s.name)
@FAST
@given(data=st.data())
def test_values_outside_the_ranges_raise_value_error_naming_the_parameter(spec, data):
    bad = data.draw(st.sampled_from(spec.params), label="bad parameter")
    params = {p.name: data.draw(in_range(p), label=p.name) for p in spec.params
              if p is not bad and data.draw(st.booleans(), label=f"give {p.name}")}
    params[bad.name] = data.draw(out_of_range(bad), label=bad.name)
    image = IMAGES[1]
    with time_limit(10), pytest.raises(ValueError) as err:
        segcore.segment(image, spec.name, seeds=_valid_seeds(spec, image.shape[:2]), **params)
    message = str(err.value)
    assert repr(bad.name) in message, message
    assert len(message) < 400, message


@pytest.mark.parametrize("spec", METHODS, ids=lambda s: s.name)
@FAST
@given(name=st.text(min_size=1, max_size=12), value=st.one_of(st.integers(), st.text()))
def test_unknown_parameters_raise_value_error_naming_the_valid_ones(spec, name, value):
    if name in {p.name for p in spec.params} or name in ("seeds", "progress"):
        return
    with pytest.raises(ValueError, match="valid parameters"):
        segcore.segment(IMAGES[1], spec.name, **{name: value})


# --------------------------------------------------------------------------- seeds

SHAPE = (24, 24)


@st.composite
def good_seeds(draw):
    """A valid seed layout on a 24x24 image: points in bounds with labels from 1 (one
    label only, many labels, duplicate points), as a list of tuples (of Python or
    numpy numbers), or a marker image (int or float)."""
    h, w = SHAPE
    top = draw(st.sampled_from([1, 2, 3, 7, 40]))  # highest label: one label up to many
    point = st.tuples(st.integers(0, h - 1), st.integers(0, w - 1), st.integers(1, top))
    points = draw(st.lists(point, min_size=1, max_size=30))
    if draw(st.booleans()):  # the same pixel twice, perhaps with another label
        r, c, _ = points[0]
        points.append((r, c, draw(st.integers(1, top))))
    form = draw(st.sampled_from(["list", "numpy", "markers", "float markers"]))
    if form == "numpy":
        return [tuple(np.int64(v) for v in p) for p in points]
    if form in ("markers", "float markers"):
        markers = np.zeros(SHAPE, np.float64 if form == "float markers" else np.int32)
        for r, c, lab in points:
            markers[r, c] = lab
        return markers
    return points


@st.composite
def bad_seeds(draw):
    """A seed layout that must be refused: a point out of bounds, a label of 0 or
    below or past int32, junk where a number goes, a tuple of the wrong length, a
    marker image of the wrong shape, type or values; among valid points."""
    h, w = SHAPE
    ok = st.tuples(st.integers(0, h - 1), st.integers(0, w - 1), st.integers(1, 5))
    others = draw(st.lists(ok, max_size=4))
    junk_number = st.one_of(st.none(), st.text(max_size=4),
                            st.floats(allow_nan=True, allow_infinity=True).filter(
                                lambda v: not math.isfinite(v) or v != int(v)),
                            st.sampled_from([[1], (), {}, object(), True, b"1"]))
    kind = draw(st.sampled_from(["rows", "cols", "label", "junk", "length", "markers",
                                 "not a list"]))
    if kind == "rows":
        bad = (draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=h))),
               draw(st.integers(0, w - 1)), 1)
    elif kind == "cols":
        bad = (draw(st.integers(0, h - 1)),
               draw(st.one_of(st.integers(max_value=-1), st.integers(min_value=w))), 1)
    elif kind == "label":
        bad = (draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1)),
               draw(st.one_of(st.integers(max_value=0), st.integers(min_value=MAX_SEED_LABEL + 1))))
    elif kind == "junk":
        bad = [draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1)), 1]
        bad[draw(st.integers(0, 2))] = draw(junk_number)
        bad = tuple(bad)
    elif kind == "length":
        bad = tuple(draw(st.lists(st.integers(0, 5), max_size=6).filter(lambda v: len(v) != 3)))
    elif kind == "markers":
        choice = draw(st.sampled_from(["shape", "negative", "fraction", "nan", "inf", "huge",
                                       "text", "complex"]))
        markers = np.zeros(SHAPE, np.float64)
        markers[0, 0] = 1
        if choice == "shape":
            return np.ones((h + draw(st.integers(1, 3)), w), np.int32)
        if choice == "text":
            return np.full(SHAPE, "1")
        if choice == "complex":
            return markers.astype(complex)
        markers[1, 1] = {"negative": -1, "fraction": 1.5, "nan": np.nan, "inf": np.inf,
                         "huge": 2.0**40}[choice]
        return markers
    else:
        return draw(st.sampled_from(["1,2,3", b"123", 5, 2.5, {"a": (1, 2, 3)}, object()]))
    points = others + [bad]
    return draw(st.permutations(points))


@pytest.mark.parametrize("spec", SEEDED, ids=lambda s: s.name)
@RUNS
@given(seeds=good_seeds(), channels=st.sampled_from([1, 3]))
@example(seeds=[(3, 3, 1)], channels=1)  # one seed, one label
@example(seeds=[(3, 3, 2), (3, 3, 2), (20, 20, 2)], channels=1)  # one label, duplicate points
@example(seeds=[(r, c, 1 + (r * 24 + c) % 60) for r in range(0, 24, 3) for c in range(0, 24, 3)],
         channels=3)  # many labels
def test_valid_seed_layouts_succeed_and_label_with_the_seeds_labels(spec, seeds, channels):
    image = IMAGES[channels]
    markers = segcore.as_markers(seeds, SHAPE)
    with time_limit(30):
        seg = segcore.segment(image, spec.name, seeds=seeds)
    _valid(seg, SHAPE)
    assert set(np.unique(seg.labels)) <= {0} | set(np.unique(markers[markers > 0]))


@pytest.mark.parametrize("spec", SEEDED, ids=lambda s: s.name)
@RUNS
@given(labels=st.lists(st.integers(1, MAX_SEED_LABEL), min_size=1, max_size=4),
       markers=st.booleans())
@example(labels=[MAX_SEED_LABEL], markers=False)
@example(labels=[1, 10**6], markers=True)
def test_high_labels_succeed_or_say_what_the_method_takes(spec, labels, markers):
    """Labels up to int32's largest are valid seeds; a method that cannot take a label
    that high (one that keeps a map per label) says so, in bounded time and memory."""
    seeds = [(3 + 5 * i, 4 + 3 * i, lab) for i, lab in enumerate(labels)]
    if markers:
        seeds = segcore.as_markers(seeds, SHAPE)
    with time_limit(30):
        try:
            seg = segcore.segment(IMAGES[1], spec.name, seeds=seeds)
        except ValueError as err:
            assert "label" in str(err), str(err)
            return
    _valid(seg, SHAPE)
    assert set(np.unique(seg.labels)) <= {0} | set(labels)


@pytest.mark.parametrize("spec", SEEDED, ids=lambda s: s.name)
@FAST
@given(seeds=bad_seeds())
def test_bad_seed_layouts_raise_value_error(spec, seeds):
    with time_limit(10), pytest.raises(ValueError) as err:
        segcore.segment(IMAGES[1], spec.name, seeds=seeds)
    assert str(err.value) and len(str(err.value)) < 400


@pytest.mark.parametrize("spec", SEEDED, ids=lambda s: s.name)
@pytest.mark.parametrize("empty", [None, [], (), np.zeros(SHAPE, np.int32)],
                         ids=["none", "list", "tuple", "markers"])
def test_no_seeds_is_no_seeds(spec, empty):
    """Empty seeds mean none: a method that needs seeds says so; the others find their own."""
    if spec.seeds == "required":
        with pytest.raises(ValueError, match="needs at least one seed"):
            segcore.segment(IMAGES[1], spec.name, seeds=empty)
    else:
        with time_limit(30):
            _valid(segcore.segment(IMAGES[1], spec.name, seeds=empty), SHAPE)
