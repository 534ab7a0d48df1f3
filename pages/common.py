"""What every page shares: the chosen image, the caches, widgets built from the
registry's parameter specs, seeds, pictures and downloads.

Pages draw widgets and call these helpers; the computation itself lives in
segcore, which never imports streamlit. Every ``st.cache_*`` of the app is in
this module, so caching is decided in one place.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

import segcore
from segcore import io as sio
from segcore import metrics, viz
from segcore.registry import MethodSpec, Param, Segmentation, scale_seeds
from segcore.snippet import reproduce_snippet

log = logging.getLogger("seglab")


def _leave_old_multipage_mode() -> None:
    """Streamlit takes a folder called ``pages/`` beside the main script for an
    old-style (v1) multipage app until ``app.py`` has called ``st.navigation``
    once in the server process. A first visitor who opens ``/segment`` on a fresh
    server would then get ``pages/segment.py`` alone: no page config, no sidebar,
    and this module listed as a page. Every page imports this module first, so
    here the old mode is switched off and the run restarted through ``app.py``.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the old mode has nothing to leave
        return
    if getattr(PagesManager, "uses_pages_directory", None):
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_old_multipage_mode()

#: Methods explore a preview of at most this many pixels; the full image on request.
PREVIEW_PIXELS = 1_000_000
#: Longest side of the pictures sent to the browser.
DISPLAY_SIDE = 900
#: Refuse images with more pixels than this (checked from the file header).
MAX_PIXELS = 50_000_000
#: Highest seed label offered.
SEED_LABELS = 6
#: The sample shown before the user picks one.
DEFAULT_SAMPLE = ("scikit-image", "coins")

# scikit-image's bundled pictures that ship inside the package (no download).
SKIMAGE_SAMPLES = {
    "coins": "Greek coins on a dark, unevenly lit background.",
    "camera": "The cameraman: a classic gray test picture.",
    "moon": "Low-contrast lunar surface.",
    "page": "A scanned page under uneven light: try a local threshold.",
    "text": "Hand-written text on a textured background.",
    "horse": "A black and white horse silhouette.",
    "cell": "A cell under a phase-contrast microscope.",
    "astronaut": "Eileen Collins, colour portrait.",
    "chelsea": "Chelsea the cat, colour.",
    "coffee": "A cup of coffee, colour.",
    "rocket": "A rocket on the launch pad, colour.",
    "immunohistochemistry": "Stained tissue (IHC): brown and blue nuclei.",
    "hubble_deep_field": "Galaxies from the Hubble Deep Field.",
    "retina": "A retina photograph: 1411 × 1411, so the app works on a preview.",
}

KEPT = "_kept_widget_values"


def config_upload_mb() -> int:
    """The upload limit in megabytes, as ``.streamlit/config.toml`` sets it."""
    return int(st.get_option("server.maxUploadSize"))


# --------------------------------------------------------------------------- the chosen image


@dataclass(frozen=True)
class CurrentImage:
    """The image every page works on, kept in ``st.session_state``.

    ``key`` is a hash of the content: caches and seeds are keyed by it.
    ``truth`` holds class ids at full size (``None`` when unknown); with
    ``truth_ignore`` set, truth pixels of that value are left out of scores.
    """

    name: str
    origin: str  # "generated", "scikit-image", "upload", "camera"
    key: str
    image: np.ndarray
    preview: np.ndarray
    info: sio.ImageInfo | None = None
    truth: np.ndarray | None = None
    truth_ignore: int | None = None
    truth_note: str = ""
    truth_key: str = ""
    description: str = ""
    sample: str | None = None  # generated sample name, for the snippet

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]

    @property
    def is_previewed(self) -> bool:
        return self.preview.shape[:2] != self.image.shape[:2]

    @property
    def file_stem(self) -> str:
        stem = Path(self.name).stem or "image"
        return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)


def digest(data: bytes) -> str:
    """A short content hash of ``data``."""
    return hashlib.sha1(data).hexdigest()[:16]


# Decoded images can be large (50 MP in colour is 600 MB as float32): keep few.
@st.cache_data(max_entries=4, show_spinner=False)
def _decode(key: str, _data: bytes) -> tuple[np.ndarray, sio.ImageInfo]:
    # Keyed by the content hash: the bytes themselves need not be hashed again.
    return sio.load_image_with_info(_data, max_pixels=MAX_PIXELS)


@st.cache_data(max_entries=8, show_spinner=False)
def _preview(key: str, _image: np.ndarray) -> np.ndarray:
    return sio.preview(_image, max_pixels=PREVIEW_PIXELS)


@st.cache_data(show_spinner=False)
def _skimage_png(name: str) -> bytes:
    """A bundled scikit-image picture as PNG bytes, so it is loaded like any file."""
    import skimage.data

    array = getattr(skimage.data, name)()
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


@st.cache_data(show_spinner=False)
def _generated(name: str) -> tuple[np.ndarray, np.ndarray, str]:
    sample = segcore.synthetic.make(name)
    return sample.image, sample.truth, sample.description


def image_from_bytes(data: bytes, name: str, *, origin: str, description: str = "") -> CurrentImage:
    """Decode an uploaded file; raises :class:`segcore.ImageError` in plain words."""
    key = digest(data)
    image, info = _decode(key, data)
    return CurrentImage(name=name, origin=origin, key=key, image=image,
                        preview=_preview(key, image), info=info, description=description)


def sample_image(origin: str, name: str) -> CurrentImage:
    """A bundled sample: ``origin`` is ``"generated"`` or ``"scikit-image"``."""
    if origin == "generated":
        image, truth, description = _generated(name)
        key = "generated:" + name
        return CurrentImage(name=name, origin=origin, key=key, image=image,
                            preview=_preview(key, image), truth=truth, truth_key=key,
                            truth_note="exact: the image was drawn from it",
                            description=description, sample=name)
    if name not in SKIMAGE_SAMPLES:
        raise ValueError(f"unknown sample {name!r}")
    return image_from_bytes(_skimage_png(name), name + ".png", origin=origin,
                            description=SKIMAGE_SAMPLES[name])


@st.cache_data(show_spinner=False)
def thumbnail(origin: str, name: str, side: int = 160) -> np.ndarray:
    """A small square ``uint8`` picture of a sample for the gallery (centre crop)."""
    picture = sample_image(origin, name).preview
    h, w = picture.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return display_rgb(picture[top:top + s, left:left + s], side=side)


def all_samples() -> list[tuple[str, str, str]]:
    """``(origin, name, description)`` of every bundled sample, generated ones first."""
    out = [("generated", name, _generated(name)[2]) for name in segcore.synthetic.SAMPLES]
    out += [("scikit-image", name, text) for name, text in SKIMAGE_SAMPLES.items()]
    return out


def current() -> CurrentImage:
    """The chosen image; the default sample until the user picks one."""
    if "current" not in st.session_state:
        st.session_state["current"] = sample_image(*DEFAULT_SAMPLE)
    return st.session_state["current"]


def set_current(image: CurrentImage) -> None:
    st.session_state["current"] = image


def with_truth(cur: CurrentImage, truth: np.ndarray | None, *, ignore: int | None = None,
               note: str = "") -> CurrentImage:
    truth_key = "" if truth is None else digest(np.ascontiguousarray(truth).tobytes())
    return replace(cur, truth=truth, truth_ignore=ignore, truth_note=note, truth_key=truth_key)


# --------------------------------------------------------------------------- ground-truth masks


def apply_mask_upload(upload_key: str, zero_key: str) -> None:
    """Widget callback: attach the uploaded ground-truth mask to the current image.

    Runs before the script, so every part of the page (the sidebar too) sees the
    result; a failure is kept under ``upload_key + ".error"`` for
    :func:`show_upload_error` and leaves the image as it was.
    """
    upload = st.session_state.get(upload_key)
    st.session_state.pop(upload_key + ".error", None)
    if upload is None:
        return
    cur = current()
    zero = st.session_state.get(zero_key, "class")
    try:
        truth, ignore, note = sio.load_mask(upload.getvalue(), shape=cur.shape, zero=zero,
                                             max_pixels=MAX_PIXELS)
    except ValueError as err:
        st.session_state[upload_key + ".error"] = f"The mask {upload.name} could not be used: {err}."
        return
    set_current(with_truth(cur, truth, ignore=ignore, note=f"from {upload.name}: {note}"))


def show_upload_error(upload_key: str) -> None:
    message = st.session_state.get(upload_key + ".error")
    if message:
        st.error(message)


def mask_uploader(*, key: str, zero_key: str) -> None:
    """The ground-truth mask upload with its convention, for the Image and Evaluate pages."""
    st.radio("In a mask with more than two values, 0 means", ["class", "ignore"], key=zero_key,
             horizontal=True, on_change=apply_mask_upload, args=(key, zero_key),
             format_func={"class": "a class like any other",
                          "ignore": "not labelled: leave those pixels out"}.get)
    st.file_uploader("Ground-truth mask", type=["png", "tif", "tiff", "bmp", "gif"], key=key,
                     on_change=apply_mask_upload, args=(key, zero_key))
    show_upload_error(key)
    st.caption(
        "How masks are read: a mask with exactly two values (black and white, 0/255 or 0/1) "
        "marks background and object and becomes classes 1 (background) and 2 (object), as "
        "for the generated samples. A gray mask with more values keeps them as class ids. "
        "A colour mask gets one class per colour, numbered from dark to bright.")


@st.cache_data(max_entries=16, show_spinner=False)
def _resize_nearest(key: str, shape: tuple[int, int], _labels: np.ndarray) -> np.ndarray:
    return sio.resize_labels(_labels, shape)


def truth_at(cur: CurrentImage, shape: tuple[int, int]) -> np.ndarray | None:
    """The ground truth at the size of a working image, or ``None``."""
    if cur.truth is None:
        return None
    return _resize_nearest(cur.truth_key, tuple(shape), cur.truth)


# --------------------------------------------------------------------------- running methods


def work_image(cur: CurrentImage, *, full: bool) -> np.ndarray:
    return cur.image if full else cur.preview


@st.cache_data(max_entries=32, show_spinner=False)
def _segment(image_key: str, method: str, params: tuple, seeds: tuple,
             _image: np.ndarray) -> Segmentation:
    # Preview results, keyed by the image's content hash and everything the method
    # sees; the array itself is not hashed again on every rerun.
    return segcore.segment(_image, method, seeds=list(seeds) or None, **dict(params))


FULL_RESULTS_KEPT = 2


def _segment_full(cur: CurrentImage, method: str, params: tuple, seeds: tuple,
                  progress: Callable | None) -> Segmentation:
    # Full-size results are few and large, and their runs report progress to the
    # page, which a cached function must not do (it would be replayed): keep the
    # last ones of this session instead.
    kept = st.session_state.setdefault("full_results", {})
    key = (cur.key, method, params, seeds)
    if key not in kept:
        seg = segcore.segment(cur.image, method, seeds=list(seeds) or None, progress=progress,
                              **dict(params))
        while len(kept) >= FULL_RESULTS_KEPT:
            kept.pop(next(iter(kept)))
        kept[key] = seg
    return kept[key]


def run_method(cur: CurrentImage, method: str, params: dict, *, seeds=None, full: bool = False,
               progress: Callable | None = None) -> tuple[Segmentation | None, str | None]:
    """Run a method on the preview (or the full image); ``(result, None)`` or
    ``(None, plain-words error)``. Never raises."""
    image = work_image(cur, full=full)
    work_seeds = tuple(scale_seeds(seeds or [], cur.shape, image.shape[:2]))
    items = tuple(sorted(params.items()))
    try:
        if full:
            seg = _segment_full(cur, method, items, work_seeds, progress)
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


def named(text: str) -> str:
    """``text`` with the private paths of uploaded checkpoints replaced by the names
    the user gave those files."""
    for path, name in st.session_state.get("checkpoint_names", {}).items():
        text = text.replace(path, name).replace(Path(path).name, name)
    return text


def score(labels: np.ndarray, truth: np.ndarray, *, ignore: int | None = None,
          match: str = "hungarian") -> tuple[dict | None, str | None]:
    """``metrics.score`` with the error turned into words."""
    try:
        return metrics.score(labels, truth, match=match, ignore=ignore), None
    except ValueError as err:
        return None, str(err)


def remember_result(cur: CurrentImage, source: str, seg: Segmentation, *, full: bool) -> None:
    """Keep a result so that the Evaluate page can score it."""
    kept = st.session_state.setdefault("results", {}).setdefault(cur.key, {})
    kept.pop(source, None)  # re-inserted last: the dict is ordered oldest to newest
    kept[source] = {"seg": seg, "full": full}


def results_for(cur: CurrentImage) -> dict:
    """Kept results on this image, newest first."""
    kept = st.session_state.get("results", {}).get(cur.key, {})
    return dict(reversed(list(kept.items())))


# --------------------------------------------------------------------------- parameter widgets


def _restore(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> None:
    """Give a widget back its value after a page switch (Streamlit drops the state
    of widgets that were not drawn), without passing a default that fights it."""
    kept = st.session_state.setdefault(KEPT, {})
    if key not in st.session_state:
        value = kept.get(key, default)
        if valid is not None and not valid(value):
            value = default
        st.session_state[key] = value


def _keep(key: str) -> Any:
    st.session_state.setdefault(KEPT, {})[key] = st.session_state[key]
    return st.session_state[key]


def log_grid(p: Param, n: int = 49) -> list:
    """Values of a log-scale parameter for a select slider: a geometric grid from
    ``low`` to ``high``, rounded to three significant digits, with the default."""
    raw = np.geomspace(p.low, p.high, n)
    if p.kind == "int":
        values = {int(round(v)) for v in raw} | {int(p.low), int(p.high), int(p.default)}
    else:
        values = {float(f"{v:.3g}") for v in raw} | {float(p.low), float(p.high), float(p.default)}
    return sorted(v for v in values if p.low <= v <= p.high)


def _nice_step(p: Param) -> float:
    if p.step:
        return float(p.step)
    return 10.0 ** math.floor(math.log10((p.high - p.low) / 100)) if p.high > p.low else 0.01


def fmt_value(value: Any) -> str:
    """A parameter value as a person reads it."""
    if isinstance(value, float):
        if value == 0:
            return "0"
        if abs(value) >= 1000 or abs(value) < 0.001:
            return f"{value:.3g}"
        return f"{value:.4g}"
    return str(value)


OWN_CHECKPOINT = "your own checkpoint…"


def param_widgets(spec: MethodSpec, *, scope: str) -> tuple[dict, list[str]]:
    """One widget per parameter of ``spec``, with its help text; returns the values
    and what is still missing before the method can run (e.g. a checkpoint).

    Widget keys are ``"{scope}.{method}.{param}"``, so every page and every method
    keeps its own settings, and they survive page switches.
    """
    values, missing = {}, []
    for p in spec.params:
        key = f"{scope}.{spec.name}.{p.name}"
        label = p.name
        if not spec.is_active(p.name, values):
            # Hidden while it does not matter; its last value is kept for when it does.
            values[p.name] = st.session_state.get(KEPT, {}).get(key, p.default)
            continue
        # A value kept from an older spec may no longer be valid; then the default it is.
        in_range = (lambda v, p=p: isinstance(v, (int, float)) and p.low <= v <= p.high)
        if p.kind == "bool":
            _restore(key, bool(p.default))
            st.checkbox(label, key=key, help=p.help)
        elif p.kind == "choice" and p.paths:
            value = _path_choice(p, key)
            if value is None:
                missing.append(f"upload a checkpoint file for `{p.name}`")
                continue
            values[p.name] = value
            continue
        elif p.kind == "choice":
            options = list(p.choices)
            _restore(key, p.default, lambda v, o=options: v in o)
            st.selectbox(label, options, key=key, help=p.help, format_func=str)
        elif p.log:
            grid = log_grid(p)
            _restore(key, p.default, lambda v, g=grid: v in g)
            st.select_slider(label, options=grid, key=key, help=p.help, format_func=fmt_value)
        elif p.kind == "int" and p.high - p.low > 1000:
            _restore(key, int(p.default), in_range)
            st.number_input(label, min_value=int(p.low), max_value=int(p.high), step=1, key=key,
                            help=p.help)
        elif p.kind == "int":
            _restore(key, int(p.default), in_range)
            st.slider(label, min_value=int(p.low), max_value=int(p.high), step=int(p.step or 1),
                      key=key, help=p.help)
        else:
            step = _nice_step(p)
            decimals = max(0, math.ceil(-math.log10(step) - 1e-9))
            _restore(key, float(p.default), in_range)
            st.slider(label, min_value=float(p.low), max_value=float(p.high), step=step,
                      key=key, help=p.help, format=f"%.{decimals}f")
        values[p.name] = _keep(key)
    return values, missing


def _path_choice(p: Param, key: str) -> str | None:
    """A choice that may also be a file: the listed values, or an uploaded file
    saved to a private temporary folder whose path becomes the value."""
    options = list(p.choices) + [OWN_CHECKPOINT]
    _restore(key, p.default, lambda v, o=options: v in o)
    choice = st.selectbox(p.name, options, key=key, help=p.help, format_func=str)
    _keep(key)
    if choice != OWN_CHECKPOINT:
        return choice
    kept = st.session_state.setdefault(KEPT, {})
    upload = st.file_uploader("Checkpoint (.pt)", type=["pt", "pth"], key=key + ".file",
                              help="A checkpoint trained with models/train.py; its card is "
                                   "either inside it or uploaded below.")
    card = st.file_uploader("Its card (.json), if not inside the checkpoint", type=["json"],
                            key=key + ".card")
    if upload is not None:
        data = upload.getvalue()
        path = _save_checkpoint(data, card.getvalue() if card is not None else None)
        kept[key + ".path"] = path
        st.session_state.setdefault("checkpoint_names", {})[path] = upload.name
    return kept.get(key + ".path")


@st.cache_resource
def _checkpoint_dir() -> tempfile.TemporaryDirectory:
    # One private folder per server process; it goes when the server stops.
    return tempfile.TemporaryDirectory(prefix="seglab-checkpoints-")


def _save_checkpoint(data: bytes, card: bytes | None) -> str:
    stem = digest(data + (card or b""))
    folder = Path(_checkpoint_dir().name)
    path = folder / f"{stem}.pt"
    if not path.exists():
        path.write_bytes(data)
        if card is not None:
            (folder / f"{stem}.json").write_bytes(card)
    return str(path)


@st.cache_resource(max_entries=4, show_spinner="Loading the model…")
def model_classes(model: str) -> list[str]:
    """Load a U-Net once per server (the weights stay in memory) and name its classes."""
    from segcore.nn.infer import load_model

    _, card = load_model(model)
    return list(card.classes)


def method_picker(*, key: str, label: str = "Method", exclude: tuple = ()) -> MethodSpec:
    specs = [m for m in segcore.list_methods() if m.name not in exclude]
    names = [m.name for m in specs]
    labels = {m.name: m.label for m in specs}
    _restore(key, names[0], lambda v: v in names)
    name = st.selectbox(label, names, key=key, format_func=lambda n: labels[n])
    _keep(key)
    return segcore.get_method(name)


def describe_method(spec: MethodSpec, cur: CurrentImage) -> None:
    st.caption(spec.description)
    if spec.gray_only and cur.image.shape[2] == 3:
        st.caption(":material/info: This method works on gray values: your colour image is "
                   "reduced to gray first.")


# --------------------------------------------------------------------------- seeds


def seeds_of(cur: CurrentImage) -> list[tuple[int, int, int]]:
    """The user's seeds on this image, in full-image coordinates."""
    return st.session_state.setdefault("seeds", {}).setdefault(cur.key, [])


def _seed_clicked(chart_key: str, cur_key: str, display_shape, full_shape) -> None:
    state = st.session_state.get(chart_key)
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    if not points:
        return
    point = points[-1]
    r, c = scale_seeds([(point["y"], point["x"], 1)], display_shape, full_shape)[0][:2]
    label = int(st.session_state.get("seed_label", 1))
    st.session_state.setdefault("seeds", {}).setdefault(cur_key, []).append((r, c, label))
    # A fresh chart key empties the selection, so the same spot can be clicked again.
    st.session_state["seed_chart"] = st.session_state.get("seed_chart", 0) + 1


def _undo_seed(cur_key: str) -> None:
    seeds = st.session_state.setdefault("seeds", {}).setdefault(cur_key, [])
    if seeds:
        seeds.pop()


def _clear_seeds(cur_key: str) -> None:
    st.session_state.setdefault("seeds", {})[cur_key] = []


def _add_typed_seed(cur_key: str) -> None:
    r = int(st.session_state[f"seed_row.{cur_key}"])
    c = int(st.session_state[f"seed_col.{cur_key}"])
    label = int(st.session_state.get("seed_label", 1))
    st.session_state.setdefault("seeds", {}).setdefault(cur_key, []).append((r, c, label))


def options_key(base: str, options) -> str:
    """A widget key that changes with its options, so a choice kept for other options
    (another image, another result) never meets a list it is not in."""
    return f"{base}.{digest(repr(list(options)).encode())}"


def hex_colour(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(round(float(v) * 255)) for v in rgb)


def seed_controls(cur: CurrentImage, spec: MethodSpec) -> list[tuple[int, int, int]]:
    """The seed label picker, undo, clear and typed entry; returns the seeds."""
    seeds = seeds_of(cur)
    need = "needs at least one seed" if spec.seeds == "required" else "can use seeds (optional)"
    st.markdown(f"**Seeds** — {spec.label} {need}. Click on the picture to place a seed "
                "of the label chosen here.")
    palette = viz.label_palette(SEED_LABELS)
    _restore("seed_label", 1, lambda v: v in range(1, SEED_LABELS + 1))
    st.segmented_control("Label of the next seed", list(range(1, SEED_LABELS + 1)),
                         key="seed_label", required=True,
                         help="Seeds of the same label grow into the same region; the colours "
                              "below are the labels' colours on the picture.")
    _keep("seed_label")
    swatches = " ".join(
        f"<span style='color:{hex_colour(palette[i])};font-size:1.2em'>&#9632;</span>&nbsp;{i}"
        for i in range(1, SEED_LABELS + 1))
    st.markdown(swatches, unsafe_allow_html=True)
    counts = {}
    for _, _, lab in seeds:
        counts[lab] = counts.get(lab, 0) + 1
    summary = ", ".join(f"label {k}: {v}" for k, v in sorted(counts.items())) or "none yet"
    st.caption(f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({summary})")
    c1, c2 = st.columns(2)
    c1.button("Undo", on_click=_undo_seed, args=(cur.key,), disabled=not seeds,
              key="seed_undo", width="stretch", icon=":material/undo:")
    c2.button("Clear seeds", on_click=_clear_seeds, args=(cur.key,), disabled=not seeds,
              key="seed_clear", width="stretch", icon=":material/delete:")
    with st.expander("Add a seed by typing its position"):
        h, w = cur.shape
        a, b = st.columns(2)
        a.number_input("row", min_value=0, max_value=h - 1, value=h // 2,
                        key=f"seed_row.{cur.key}")
        b.number_input("column", min_value=0, max_value=w - 1, value=w // 4,
                        key=f"seed_col.{cur.key}")
        st.button("Add seed", on_click=_add_typed_seed, args=(cur.key,), key="seed_add")
        st.caption(f"Rows 0–{h - 1} from the top, columns 0–{w - 1} from the left, in the "
                   "full image.")
    return list(seeds)


def clickable_picture(cur: CurrentImage, picture: np.ndarray, seeds, *,
                      key: str = "seedpic") -> None:
    """Show ``picture`` (any size, float RGB) as a plotly image that adds a seed where
    it is clicked, with the seeds drawn on it."""
    shown = display_rgb(picture)
    dh, dw = shown.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(shown).save(buf, format="JPEG", quality=90)
    source = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    fig = go.Figure()
    fig.add_trace(go.Image(source=source, hoverinfo="skip"))
    # Clicks land on the nearest point of an invisible grid: plotly reports clicks
    # on scatter points, not on image pixels.
    step = max(1, math.ceil(max(dh, dw) / 160))
    gy, gx = np.mgrid[step // 2:dh:step, step // 2:dw:step]
    fh, fw = cur.shape
    fig.add_trace(go.Scatter(
        x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False,
        marker=dict(size=step * 2 + 2, opacity=0),
        customdata=np.stack([np.minimum(((gy.ravel() + 0.5) * fh / dh).astype(int), fh - 1),
                             np.minimum(((gx.ravel() + 0.5) * fw / dw).astype(int), fw - 1)], 1),
        hovertemplate="click to add a seed<br>row %{customdata[0]}, column %{customdata[1]}"
                      "<extra></extra>"))
    if seeds:
        disp = scale_seeds(seeds, cur.shape, (dh, dw))
        palette = viz.label_palette(max(lab for *_, lab in seeds))
        fig.add_trace(go.Scatter(
            x=[c for _, c, _ in disp], y=[r for r, _, _ in disp], mode="markers+text",
            text=[str(lab) for *_, lab in disp], textposition="top center",
            textfont=dict(color="white", size=13),
            marker=dict(size=13, color=[hex_colour(palette[lab]) for *_, lab in disp],
                        line=dict(color="white", width=2), symbol="circle"),
            hoverinfo="skip", showlegend=False))
    # About the width the result column gets on a laptop screen, so little is left blank.
    height = int(min(720, max(240, 660 * dh / dw)))
    fig.update_layout(dragmode=False, margin=dict(l=0, r=0, t=0, b=0), height=height,
                      hovermode="closest", plot_bgcolor="rgba(0,0,0,0)")
    fig.update_xaxes(visible=False, range=[-0.5, dw - 0.5])
    fig.update_yaxes(visible=False, range=[dh - 0.5, -0.5], scaleanchor="x")
    chart_key = f"{key}.{st.session_state.get('seed_chart', 0)}"
    st.plotly_chart(fig, key=chart_key, on_select=lambda: _seed_clicked(
        chart_key, cur.key, (dh, dw), cur.shape), selection_mode="points",
        config={"displayModeBar": False, "scrollZoom": False}, width="stretch")


# --------------------------------------------------------------------------- pictures


def display_rgb(image: np.ndarray, *, side: int = DISPLAY_SIDE) -> np.ndarray:
    """A ``uint8`` RGB picture no larger than ``side`` pixels on its longer side; small
    images are enlarged by whole pixels so the browser does not blur their labels."""
    rgb = viz.to_rgb(image)
    h, w = rgb.shape[:2]
    factor = (side * 2 // 3) // max(h, w)
    if factor >= 2:
        rgb = np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    elif max(h, w) > side:
        scale = side / max(h, w)
        shape = (max(1, round(h * scale)), max(1, round(w * scale)))
        rgb = sio.preview(rgb, max_pixels=shape[0] * shape[1])
    return viz.to_uint8(rgb)


def probability_names(seg: Segmentation) -> list[str]:
    k = seg.probabilities.shape[2]
    classes = seg.extras.get("classes")
    if classes and len(classes) == k:
        return [f"{i + 1}: {name}" for i, name in enumerate(classes)]
    return [f"label {i + 1}" for i in range(k)]


def error_masks(labels: np.ndarray, truth: np.ndarray, mapping: dict | None,
                positive: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Binary prediction and truth for the error map: pixels whose (matched) label
    or true class is one of ``positive``."""
    pred = metrics.apply_mapping(labels, mapping)
    return np.isin(pred, positive), np.isin(truth, positive)


# --------------------------------------------------------------------------- downloads


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sio.save_png(buf, array)
    return buf.getvalue()


def labels_png(labels: np.ndarray) -> bytes:
    return sio.encode_labels_png(labels)


def mask_png(labels: np.ndarray, keep: list[int]) -> bytes:
    return png_bytes(np.where(np.isin(labels, keep), 255, 0).astype(np.uint8))


def rgb_png(picture: np.ndarray) -> bytes:
    return png_bytes(viz.to_uint8(viz.to_rgb(picture)))


def params_json(cur: CurrentImage, seg: Segmentation, *, full: bool, seeds) -> str:
    shape = seg.labels.shape
    return json.dumps({
        "image": cur.name,
        "image_size": {"height": cur.shape[0], "width": cur.shape[1]},
        "worked_on": "full image" if full else f"preview {shape[1]} x {shape[0]}",
        "method": seg.method,
        "params": {k: _plain(v) for k, v in seg.params.items()},
        "seeds": [list(s) for s in seeds] if seeds else None,
        "n_regions": seg.n_regions,
        "elapsed_s": round(seg.elapsed_s, 4),
    }, indent=2)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def snippet(cur: CurrentImage, seg: Segmentation, *, full: bool, seeds) -> str:
    names = st.session_state.get("checkpoint_names", {})
    params = {k: (Path(names[v]).name if isinstance(v, str) and v in names else v)
              for k, v in seg.params.items()}
    try:
        return reproduce_snippet(
            seg.method, params, seeds=seeds or None, sample=cur.sample,
            path=cur.name if cur.sample is None else "image.png",
            max_pixels=None if full or not cur.is_previewed else PREVIEW_PIXELS,
            output=f"{cur.file_stem}-{seg.method}-labels.png")
    except ValueError:
        # An uploaded checkpoint's own name is no existing path here; show it anyway.
        code = reproduce_snippet(seg.method, {}, seeds=seeds or None, sample=cur.sample,
                                 path=cur.name)
        return code.replace(f"segcore.segment(image, {seg.method!r}",
                            f"segcore.segment(image, {seg.method!r}, " + ", ".join(
                                f"{k}={v!r}" for k, v in params.items()), 1)


def image_facts(cur: CurrentImage) -> list[str]:
    """Size, channels, bit depth and pre-flight notes in plain words."""
    h, w = cur.shape
    channels = cur.image.shape[2]
    facts = [f"{w} × {h} pixels ({w * h / 1e6:.2f} MP), "
             f"{'1 channel (gray)' if channels == 1 else '3 channels (colour)'}"]
    if cur.info is not None:
        facts[0] += f", {cur.info.bit_depth}-bit {cur.info.format}"
    notes = list(cur.info.notes) if cur.info is not None else []
    if cur.info is not None and cur.info.bit_depth == 16 and not any("16-bit" in n for n in notes):
        notes.append("16-bit data scaled to [0, 1]")
    if cur.is_previewed:
        ph, pw = cur.preview.shape[:2]
        notes.append(f"large image: the pages work on a {pw} × {ph} preview while you explore; "
                     "the Segment page can run on the full image")
    if channels == 3:
        gray = [m.label for m in segcore.list_methods() if m.gray_only]
        if gray:
            notes.append("colour image: gray-only methods (" + ", ".join(gray) +
                         ") reduce it to gray first")
    return facts + notes
