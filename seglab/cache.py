"""Every cached computation of the app, so caching is decided in one place:
decoding and previews of images, bundled samples, method runs, loaded models."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

import segcore
from segcore import io as sio
from segcore import samples, viz
from segcore._memo import read_only
from segcore.registry import Segmentation, scale_seeds
from segcore.stoppable import segment_stoppable

from seglab.state import CurrentImage

log = logging.getLogger("seglab")

#: Methods explore a preview of at most this many pixels; the full image on request.
PREVIEW_PIXELS = 1_000_000
#: Refuse images with more pixels than this (checked from the file header).
MAX_PIXELS = 50_000_000
#: Full-size results kept per session (they are large).
FULL_RESULTS_KEPT = 2


# Large arrays (decoded images, previews, method results) are kept with
# st.cache_resource, which hands out the kept object itself: st.cache_data pickles
# what it keeps and unpickles a copy on every read, which cost 0.1 s per GMM slider
# move (labels and posteriors, 24 MB at 1 MP) and more for a 12 MP upload (144 MB as
# float32). Shared objects are made read-only (segcore._memo.read_only, as segcore's
# own store keeps its results), so no page can change them for others.


# --------------------------------------------------------------------------- images


# Decoded images can be large (50 MP in colour is 600 MB as float32): keep few.
@st.cache_resource(max_entries=4, show_spinner=False)
def _decode(key: str, _data: bytes) -> tuple[np.ndarray, sio.ImageInfo]:
    # Keyed by the content hash: the bytes themselves need not be hashed again.
    return read_only(sio.load_image_with_info(_data, max_pixels=MAX_PIXELS))


@st.cache_resource(max_entries=8, show_spinner=False)
def _preview(key: str, _image: np.ndarray) -> np.ndarray:
    return read_only(sio.preview(_image, max_pixels=PREVIEW_PIXELS))


@st.cache_resource(max_entries=16, show_spinner=False)
def _display(key: str, side: int, _preview: np.ndarray) -> np.ndarray:
    return read_only(viz.display_rgb(_preview, side=side))


def display_picture(cur: CurrentImage, side: int = viz.DISPLAY_SIDE) -> np.ndarray:
    """The current image's preview as a screen shows it (kept; read-only ``uint8``)."""
    return _display(cur.key, side, cur.preview)


def overlay_picture(cur: CurrentImage, labels: np.ndarray, *, side: int = viz.DISPLAY_SIDE,
                    **blend) -> np.ndarray:
    """:func:`segcore.viz.overlay` of preview-sized ``labels`` on the current image,
    made at the size a screen shows it (longer side ``side``): the preview's display
    picture (:func:`segcore.viz.display_rgb`) is kept, the labels are brought to it
    by the nearest pixel, and the blend covers that picture (0.6 MP at the default
    side) instead of the 1 MP preview, with no resize after it (25-30 ms less on
    every rerun that shows a result)."""
    picture = display_picture(cur, side)
    return viz.overlay(picture, sio.resize_labels(labels, picture.shape[:2]), **blend)


@st.cache_data(show_spinner=False)
def skimage_png(name: str) -> bytes:
    return samples.skimage_png(name)


@st.cache_data(show_spinner=False)
def _generated(name: str) -> segcore.synthetic.Sample:
    return segcore.synthetic.make(name)


@st.cache_data(show_spinner=False)
def list_samples() -> list[samples.SampleInfo]:
    return samples.list_samples()


def image_from_bytes(data: bytes, name: str, *, origin: str, description: str = "") -> CurrentImage:
    """Decode an uploaded file; raises :class:`segcore.ImageError` in plain words."""
    key = sio.content_key(data)
    image, info = _decode(key, data)
    return CurrentImage(name=name, origin=origin, key=key, image=image,
                        preview=_preview(key, image), info=info, description=description)


def sample_image(origin: str, name: str) -> CurrentImage:
    """A bundled sample: ``origin`` is ``"generated"`` or ``"scikit-image"``."""
    if origin == "generated":
        sample = _generated(name)
        key = "generated:" + name
        return CurrentImage(name=name, origin=origin, key=key, image=sample.image,
                            preview=_preview(key, sample.image), truth=sample.truth,
                            truth_key=key, truth_note="exact: the image was drawn from it",
                            description=sample.description, sample=name)
    picture = image_from_bytes(skimage_png(name), name + ".png", origin=origin,
                               description=samples.SKIMAGE_SAMPLES[name])
    truth = samples.skimage_truth(name)
    if truth is None:
        return picture
    return picture.with_truth(truth, note=samples.SKIMAGE_TRUTHS[name])


@st.cache_resource(max_entries=16, show_spinner=False)
def _resize_nearest(key: str, shape: tuple[int, int], _labels: np.ndarray) -> np.ndarray:
    return read_only(sio.resize_labels(_labels, shape))


def truth_at(cur: CurrentImage, shape: tuple[int, int]) -> np.ndarray | None:
    """The ground truth at the size of a working image, or ``None``."""
    if cur.truth is None:
        return None
    return _resize_nearest(cur.truth_key, tuple(shape), cur.truth)


# --------------------------------------------------------------------------- running methods


@st.cache_resource(max_entries=32, show_spinner=False)
def _segment(image_key: str, method: str, params: tuple, seeds: tuple,
             _image: np.ndarray) -> Segmentation:
    # Preview results, keyed by the image's content hash and everything the method
    # sees; the array itself is not hashed again on every rerun.
    seg = segcore.segment(_image, method, seeds=list(seeds) or None, **dict(params))
    read_only(seg.extras)
    return read_only(seg)


def _segment_full(cur: CurrentImage, method: str, params: tuple, seeds: tuple,
                  progress: Callable | None, expected_s: float | None) -> Segmentation:
    # Full-size results are few and large, and their runs report progress to the
    # page, which a cached function must not do (it would be replayed): keep the
    # last ones of this session instead.
    kept = st.session_state.setdefault("full_results", {})
    key = (cur.key, method, params, seeds)
    if key not in kept:
        # A long run of a method that reports nothing runs in a worker process that
        # Stop (or the browser going away) ends at once (segcore.stoppable).
        seg = segment_stoppable(cur.image, method, seeds=list(seeds) or None,
                                progress=progress, expected_s=expected_s, **dict(params))
        while len(kept) >= FULL_RESULTS_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = seg
    return kept[key]


def run_method(cur: CurrentImage, method: str, params: dict, *, seeds=None, full: bool = False,
               progress: Callable | None = None,
               expected_s: float | None = None) -> tuple[Segmentation | None, str | None]:
    """Run a method on the preview (or the full image, ``expected_s`` seconds
    expected); ``(result, None)`` or ``(None, plain-words error)``. Never raises
    (except Streamlit's own stop of the script, which must pass)."""
    image = cur.image if full else cur.preview
    work_seeds = tuple(scale_seeds(seeds or [], cur.shape, image.shape[:2]))
    items = tuple(sorted(params.items()))
    try:
        if full:
            seg = _segment_full(cur, method, items, work_seeds, progress, expected_s)
        else:
            seg = _segment(cur.key, method, items, work_seeds, image)
    except ValueError as err:  # segcore's documented errors are meant for people
        return None, named(str(err))
    except MemoryError:
        return None, "the computer ran out of memory; try the preview or smaller settings"
    except Exception as err:  # a method failing in a way nobody foresaw
        log.exception("method %s failed", method)
        return None, f"the method stopped with an unexpected error ({type(err).__name__}: {err})"
    return seg, None


@st.cache_data(max_entries=16, show_spinner="Loading the model…")
def _settings_notes(method: str, params: tuple, channels: int) -> list[str]:
    # What a method says about its settings depends on them and on the image's
    # channels only (a U-Net picks its model by them); a tiny image stands in.
    image = np.zeros((8, 8, channels), np.float32)
    return segcore.get_method(method).describe_settings(image, dict(params))


def settings_notes(cur: CurrentImage, method: str, params: dict) -> tuple[list[str], str | None]:
    """``(notes, None)`` about what ``params`` will do, or ``([], error in words)``."""
    try:
        return _settings_notes(method, tuple(sorted(params.items())), cur.image.shape[2]), None
    except ValueError as err:
        return [], named(str(err))


def evaluate(labels: np.ndarray, truth: np.ndarray, *, ignore: int | None = None,
             match: str = "hungarian", tolerance: float = 2) -> tuple[dict | None, str | None]:
    """:func:`segcore.metrics.evaluate` with its error turned into words."""
    try:
        return segcore.metrics.evaluate(labels, truth, match=match, ignore=ignore,
                                        tolerance=tolerance), None
    except ValueError as err:
        return None, str(err)


# --------------------------------------------------------------------------- uploaded files


@st.cache_resource
def _upload_dir() -> tempfile.TemporaryDirectory:
    # One private folder per server process; it goes when the server stops.
    return tempfile.TemporaryDirectory(prefix="seglab-uploads-")


def upload_folder() -> str:
    """The server's private folder for uploaded files (gone when the server stops)."""
    return _upload_dir().name


def save_upload(data: bytes, suffix: str, companion: bytes | None = None,
                companion_suffix: str = "") -> str:
    """Save an uploaded file (a checkpoint, with its card beside it under the same
    stem) to the server's private folder; returns its path."""
    for part in (suffix, companion_suffix):
        if part and not re.fullmatch(r"\.[a-z0-9]{1,8}", part):
            raise ValueError(f"an upload's suffix must be a dot and a few letters, got {part!r}")
    stem = sio.content_key(data + (companion or b""))
    folder = Path(_upload_dir().name)
    path = folder / f"{stem}{suffix}"
    if not path.exists():
        path.write_bytes(data)
        if companion is not None:
            (folder / f"{stem}{companion_suffix}").write_bytes(companion)
    return str(path)


def named(text: str) -> str:
    """``text`` with the private paths of uploaded files replaced by the names the
    user gave those files."""
    for path, name in st.session_state.get("upload_names", {}).items():
        text = text.replace(path, name).replace(Path(path).name, name)
    return text
