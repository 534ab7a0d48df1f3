"""What a visitor has chosen, kept in ``st.session_state``: the current image (with
its ground truth), widget values that survive page switches, and recent results."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import streamlit as st

import segcore
from segcore import io as sio
from segcore.registry import Segmentation

#: Where widget values are kept while their widget is not drawn.
KEPT = "_kept_widget_values"
#: A number for each run of the app's script, and the run each kept widget was last
#: drawn in (so a run that stops early knows which widgets it did not reach).
RUN, DRAWN = "_run", "_drawn_in_run"
#: The sample shown before the user picks one.
DEFAULT_SAMPLE = ("scikit-image", "coins")
#: Results kept per image for the Evaluate page.
RESULTS_KEPT = 12
#: Images whose results a session keeps; choosing another drops the oldest image's.
IMAGES_KEPT = 3
#: Longest file name kept from a browser (the extension survives the cut).
NAME_CHARS = 100


def clean_name(name: str) -> str:
    """A file name as a browser sent it, as SegLab keeps it: the last part of any
    path (a name never reaches a path on the server), printable characters only,
    at most :data:`NAME_CHARS` long."""
    base = "".join(ch for ch in re.split(r"[\\/]", str(name))[-1] if ch.isprintable()).strip()
    if len(base) > NAME_CHARS:
        stem, dot, ext = base.rpartition(".")
        ext = ext if dot and len(ext) <= 8 else ""
        base = stem[: NAME_CHARS - len(ext) - 2] + "…" + (dot + ext if ext else "")
    return base or "unnamed file"


def shown(text: str) -> str:
    """``text`` (a file name, anything a user typed) escaped for Streamlit's markdown,
    so it shows as typed: no emphasis, link, colour, icon, LaTeX or HTML from it."""
    # Only what acts mid-line: emphasis, code, links, HTML and entities, strike-through,
    # LaTeX, Streamlit's :colour[...] and :icon: directives, table bars.
    return re.sub(r"([\\`*_\[\]<>~$:&|])", r"\\\1", text)


@dataclass(frozen=True)
class CurrentImage:
    """The image every page works on.

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
    def label(self) -> str:
        """The name, escaped for markdown (titles, captions, messages)."""
        return shown(self.name)

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

    def facts(self) -> list[str]:
        """Size, channels, bit depth and notes in plain words (headline first)."""
        facts = sio.describe_image(self.image.shape, self.info, preview_shape=self.preview.shape)
        if self.image.shape[2] == 3:
            gray = [m.label for m in segcore.list_methods() if m.gray_only]
            facts.append("colour image: gray-only methods (" + ", ".join(gray) +
                         ") reduce it to gray first")
        return facts

    def with_truth(self, truth: np.ndarray | None, *, ignore: int | None = None,
                   note: str = "") -> "CurrentImage":
        key = "" if truth is None else sio.content_key(np.ascontiguousarray(truth).tobytes())
        return replace(self, truth=truth, truth_ignore=ignore, truth_note=note, truth_key=key)


def current() -> CurrentImage:
    """The chosen image; the default sample until the user picks one."""
    if "current" not in st.session_state:
        from seglab.cache import sample_image

        st.session_state["current"] = sample_image(*DEFAULT_SAMPLE)
    return st.session_state["current"]


def set_current(image: CurrentImage) -> None:
    st.session_state["current"] = image


# --------------------------------------------------------------------------- widget values


def restore(key: str, default: Any, valid: Callable[[Any], bool] | None = None) -> None:
    """Give a widget back its value after a page switch (Streamlit drops the state
    of widgets that were not drawn), without passing a default that fights it.
    Call before drawing the widget, and :func:`remember` after."""
    kept = st.session_state.setdefault(KEPT, {})
    if key not in st.session_state:
        value = kept.get(key, default)
        if valid is not None and not valid(value):
            value = default
        st.session_state[key] = value


def remember(key: str) -> Any:
    """Keep a widget's value for the next time it is drawn; returns the value."""
    st.session_state.setdefault(KEPT, {})[key] = st.session_state[key]
    st.session_state.setdefault(DRAWN, {})[key] = st.session_state.get(RUN)
    return st.session_state[key]


def new_run() -> None:
    """Count a run of the app's script (app.py calls it first thing)."""
    st.session_state[RUN] = st.session_state.get(RUN, 0) + 1


def not_drawn_this_run() -> list[str]:
    """Kept widgets this run has not drawn (yet): their state is stale if it stops."""
    run = st.session_state.get(RUN)
    drawn = st.session_state.get(DRAWN, {})
    return [key for key in st.session_state.get(KEPT, {}) if drawn.get(key) != run]


def persistent(widget: Callable, label: str, *, key: str, default: Any,
               valid: Callable[[Any], bool] | None = None, **kwargs) -> Any:
    """Draw ``widget(label, key=key, **kwargs)`` with the value it had when last drawn
    (``default`` the first time, or when that value is no longer ``valid``); returns it."""
    restore(key, default, valid)
    widget(label, key=key, **kwargs)
    return remember(key)


def kept(key: str, default: Any = None) -> Any:
    """The last value remembered for ``key`` (a widget not drawn now)."""
    return st.session_state.get(KEPT, {}).get(key, default)


def keep(key: str, value: Any) -> None:
    """Set what :func:`restore` gives ``key`` the next time its widget is drawn."""
    st.session_state.setdefault(KEPT, {})[key] = value
    st.session_state.pop(key, None)


def options_key(base: str, options) -> str:
    """A widget key that changes with its options, so a choice kept for other options
    (another image, another result) never meets a list it is not in."""
    return f"{base}.{sio.content_key(repr(list(options)).encode())}"


# --------------------------------------------------------------------------- results


def remember_result(cur: CurrentImage, source: str, seg: Segmentation, *, full: bool) -> None:
    """Keep a result made on a page, so the Evaluate page can score it."""
    images = st.session_state.setdefault("results", {})
    images[cur.key] = images.pop(cur.key, {})  # this image becomes the newest
    while len(images) > IMAGES_KEPT:
        images.pop(next(iter(images)))
    results = images[cur.key]
    results.pop(source, None)
    results[source] = {"seg": seg, "full": full}
    while len(results) > RESULTS_KEPT:
        results.pop(next(iter(results)))


def results_for(cur: CurrentImage) -> dict:
    """This image's kept results, newest first: ``{source: {"seg", "full"}}``."""
    results = st.session_state.get("results", {}).get(cur.key, {})
    return dict(reversed(list(results.items())))
