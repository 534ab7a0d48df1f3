"""Widgets built from segcore's specs: one per method parameter (with its human
label), the method picker, and the image and ground-truth uploads."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import segcore
from segcore import io as sio
from segcore.registry import MethodSpec, Param, format_value

from seglab import cache
from seglab.state import CurrentImage, current, kept, persistent, remember, restore, set_current

#: The extra choice of a file parameter: the user's own file.
OWN_FILE = "your own file…"


def _help(p: Param) -> str:
    # The code name stays visible: it is what --set, scripts and notebooks use.
    return f"{p.help}\n\nIn code: `{p.name}`" if p.help else f"In code: `{p.name}`"


def param_widgets(spec: MethodSpec, *, scope: str) -> tuple[dict, list[str]]:
    """One widget per parameter of ``spec``; returns the values and what is still
    missing before the method can run (e.g. a checkpoint file).

    Widget keys are ``"{scope}.{method}.{param}"``, so every page and every method
    keeps its own settings, and they survive page switches.
    """
    values, missing = {}, []
    for p in spec.params:
        key = f"{scope}.{spec.name}.{p.name}"
        if not spec.is_active(p.name, values):
            # Hidden while it does not matter; its last value is kept for when it does.
            values[p.name] = kept(key, p.default)
            continue
        if p.file is not None:
            value = _file_choice(p, key)
            if value is None:
                missing.append(f"upload a file for “{p.label}”")
            else:
                values[p.name] = value
            continue
        values[p.name] = _widget(p, key)
    return values, missing


def _widget(p: Param, key: str):
    # A value kept from an older spec may no longer be valid; then the default it is.
    in_range = (lambda v: isinstance(v, (int, float)) and p.low <= v <= p.high)
    if p.kind == "bool":
        restore(key, bool(p.default))
        st.checkbox(p.label, key=key, help=_help(p))
    elif p.kind == "choice":
        options = list(p.choices)
        restore(key, p.default, lambda v: v in options)
        st.selectbox(p.label, options, key=key, help=_help(p), format_func=str)
    elif p.log:
        grid = p.grid()
        restore(key, p.default, lambda v: v in grid)
        st.select_slider(p.label, options=grid, key=key, help=_help(p), format_func=format_value)
    elif p.kind == "int" and p.high - p.low > 1000:
        restore(key, int(p.default), in_range)
        st.number_input(p.label, min_value=int(p.low), max_value=int(p.high), step=1, key=key,
                        help=_help(p))
    elif p.kind == "int":
        restore(key, int(p.default), in_range)
        st.slider(p.label, min_value=int(p.low), max_value=int(p.high),
                  step=int(p.step or 1), key=key, help=_help(p))
    else:
        step = p.slider_step()
        decimals = max(0, len(f"{step:.10f}".rstrip("0").split(".")[1]))
        restore(key, float(p.default), in_range)
        st.slider(p.label, min_value=float(p.low), max_value=float(p.high), step=step,
                  key=key, help=_help(p), format=f"%.{decimals}f")
    return remember(key)


def _file_choice(p: Param, key: str) -> str | None:
    """A choice that may also be a file: the listed values, or an uploaded file
    saved to the server's private folder, whose path becomes the value."""
    options = list(p.choices) + [OWN_FILE]
    choice = persistent(st.selectbox, p.label, key=key, default=p.default,
                        valid=lambda v: v in options, options=options, help=_help(p),
                        format_func=str)
    if choice != OWN_FILE:
        return choice
    f = p.file
    upload = st.file_uploader(f.label, type=list(f.types), key=key + ".file", help=f.help)
    companion = None
    if f.companion_types:
        companion = st.file_uploader(f.companion_label, type=list(f.companion_types),
                                     key=key + ".companion")
    if upload is not None:
        path = cache.save_upload(upload.getvalue(), Path(upload.name).suffix,
                                 companion.getvalue() if companion is not None else None,
                                 "." + f.companion_types[0] if f.companion_types else "")
        st.session_state[key + ".path"] = path
        st.session_state.setdefault("upload_names", {})[path] = upload.name
    return st.session_state.get(key + ".path")


def method_picker(*, key: str, label: str = "Method") -> MethodSpec:
    """A select box over every registered method, by its human label."""
    specs = segcore.list_methods()
    names = [m.name for m in specs]
    labels = {m.name: m.label for m in specs}
    name = persistent(st.selectbox, label, key=key, default=names[0], valid=lambda v: v in names,
                      options=names, format_func=lambda n: labels[n])
    return segcore.get_method(name)


def describe_method(spec: MethodSpec, cur: CurrentImage) -> None:
    st.caption(spec.description)
    if spec.gray_only and cur.image.shape[2] == 3:
        st.caption(":material/info: This method works on gray values: your colour image is "
                   "reduced to gray first.")


def method_settings(spec: MethodSpec, cur: CurrentImage, *, scope: str) -> tuple[dict, list[str]]:
    """The parameter widgets with what the method says about these settings
    (the classes of the chosen model) below them."""
    params, missing = param_widgets(spec, scope=scope)
    if not missing:
        notes, error = cache.settings_notes(cur, spec.name, params)
        for note in notes:
            st.caption(note)
        if error:
            missing.append(f"these settings cannot be used: {error}")
    return params, missing


def metric_row(items: list[tuple[str, str, str]]) -> None:
    """Metrics ``(label, value, help)`` side by side, each as wide as its text, so a
    narrow window wraps them to a second line instead of cutting them short."""
    with st.container(horizontal=True, gap="large"):
        for label, value, help_text in items:
            st.metric(label, value, help=help_text or None, width="content")


def two_panes(*, left: int = 300):
    """The controls pane (about ``left`` pixels) and the result pane beside it; in a
    narrow window the result moves below the controls instead of being squeezed."""
    row = st.container(horizontal=True, gap="large")
    return row.container(width=left), row.container(width="stretch")


# --------------------------------------------------------------------------- uploads


def show_upload_error(key: str) -> None:
    message = st.session_state.get(key + ".error")
    if message:
        st.error(message)


def _apply_image_upload(key: str, origin: str) -> None:
    """Widget callback: decode the uploaded file before the script runs, so every part
    of the page (the sidebar too) shows it; a failure keeps the current image."""
    upload = st.session_state.get(key)
    st.session_state.pop(key + ".error", None)
    if upload is None:
        return
    data = upload.getvalue()
    limit = upload_limit_mb()
    if len(data) > limit * 1024 * 1024:
        st.session_state[key + ".error"] = (
            f"{upload.name} is {len(data) / 2**20:.1f} MB; files up to {limit} MB can be "
            "uploaded. Try a smaller or compressed copy.")
        return
    try:
        set_current(cache.image_from_bytes(data, upload.name, origin=origin))
    except ValueError as err:  # segcore.ImageError says what is wrong in plain words
        st.session_state[key + ".error"] = (
            f"{upload.name} could not be used: {err}. The previous image is still chosen.")


def upload_limit_mb() -> int:
    """The upload limit in megabytes, as ``.streamlit/config.toml`` sets it."""
    return int(st.get_option("server.maxUploadSize"))


def image_uploader(*, key: str) -> None:
    formats = ", ".join(e.upper() for e in sio.SUPPORTED_EXTENSIONS if e not in ("jpeg", "tif"))
    st.file_uploader(
        "Image", type=list(sio.SUPPORTED_EXTENSIONS), key=key,
        on_change=_apply_image_upload, args=(key, "upload"),
        help=f"{formats}; 8- or 16-bit, gray or colour; up to {upload_limit_mb()} MB.")
    show_upload_error(key)


def camera(*, key: str) -> None:
    st.camera_input("Camera", label_visibility="collapsed", key=key,
                    on_change=_apply_image_upload, args=(key, "camera"))
    show_upload_error(key)


def _apply_mask_upload(upload_key: str, zero_key: str) -> None:
    """Widget callback: attach the uploaded ground-truth mask to the current image;
    a failure is kept under ``upload_key + ".error"`` and leaves the image as it was."""
    upload = st.session_state.get(upload_key)
    st.session_state.pop(upload_key + ".error", None)
    if upload is None:
        return
    cur = current()
    zero = st.session_state.get(zero_key, "class")
    try:
        truth, ignore, note = sio.load_mask(upload.getvalue(), shape=cur.shape, zero=zero,
                                             max_pixels=cache.MAX_PIXELS)
    except ValueError as err:
        st.session_state[upload_key + ".error"] = f"The mask {upload.name} could not be used: {err}."
        return
    set_current(cur.with_truth(truth, ignore=ignore, note=f"from {upload.name}: {note}"))


def mask_uploader(*, key: str, zero_key: str) -> None:
    """The ground-truth mask upload with its convention, for the Image and Evaluate pages."""
    st.radio("In a mask with more than two values, 0 means", ["class", "ignore"], key=zero_key,
             horizontal=True, on_change=_apply_mask_upload, args=(key, zero_key),
             format_func={"class": "a class like any other",
                          "ignore": "not labelled: leave those pixels out"}.get)
    st.file_uploader("Ground-truth mask", type=["png", "tif", "tiff", "bmp", "gif"], key=key,
                     on_change=_apply_mask_upload, args=(key, zero_key))
    show_upload_error(key)
    st.caption(
        "How masks are read: a mask with exactly two values (black and white, 0/255 or 0/1) "
        "marks background and object and becomes classes 1 (background) and 2 (object), as "
        "for the generated samples. A gray mask with more values keeps them as class ids, and "
        "so does a palette PNG (by its palette indices, as SegLab's label downloads and "
        "PASCAL VOC masks are). A colour mask gets one class per colour, numbered from dark "
        "to bright.")
