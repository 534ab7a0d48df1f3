"""The image, camera and ground-truth mask uploads: files from strangers. Each is
decoded in a widget callback; a refused file leaves the session as it was (image,
truth, settings, seeds, results), says why in words, and is dropped from the widget."""

from __future__ import annotations

import streamlit as st

from segcore import io as sio
from seglab import cache
from seglab.state import clean_name, current, set_current, shown


def show_upload_error(key: str) -> None:
    message = st.session_state.get(key + ".error")
    if message:
        st.error(message)


def _widget_key(key: str) -> str:
    """The upload widget's own key. A refused file is dropped from the widget by
    giving it a fresh key (Streamlit cannot empty an uploader), so the chooser does
    not keep showing a file that was not used; messages stay under ``key``."""
    turn = st.session_state.get(key + ".turn", 0)
    return key if turn == 0 else f"{key}.{turn}"


def _refuse(key: str, message: str) -> None:
    st.session_state[key + ".error"] = message
    st.session_state[key + ".turn"] = st.session_state.get(key + ".turn", 0) + 1


def _apply_image_upload(key: str, origin: str) -> None:
    """Widget callback: decode the uploaded file before the script runs, so every part
    of the page (the sidebar too) shows it; a failure keeps the current image."""
    upload = st.session_state.get(_widget_key(key))
    st.session_state.pop(key + ".error", None)
    if upload is None:
        return
    data, name = upload.getvalue(), clean_name(upload.name)
    limit = upload_limit_mb()
    if len(data) > limit * 1024 * 1024:
        _refuse(key, f"{shown(name)} is {len(data) / 2**20:.1f} MB; files up to {limit} MB can be "
                     "uploaded. Try a smaller or compressed copy.")
        return
    try:
        set_current(cache.image_from_bytes(data, name, origin=origin))
    except ValueError as err:  # segcore.ImageError says what is wrong in plain words
        _refuse(key, f"{shown(name)} could not be used: {err}. The previous image is still "
                     "chosen.")


def upload_limit_mb() -> int:
    """The upload limit in megabytes, as ``.streamlit/config.toml`` sets it."""
    return int(st.get_option("server.maxUploadSize"))


def image_uploader(*, key: str) -> None:
    formats = ", ".join(e.upper() for e in sio.SUPPORTED_EXTENSIONS if e not in ("jpeg", "tif"))
    # Any file is taken, and segcore says in words what it is and why it cannot be used
    # (an iPhone's HEIC, an SVG, a zip): a file-type filter would only show a red icon.
    st.file_uploader(
        "Image", type=None, key=_widget_key(key),
        on_change=_apply_image_upload, args=(key, "upload"),
        help=f"{formats}; 8- or 16-bit, gray or colour; up to {upload_limit_mb()} MB.")
    show_upload_error(key)


def camera(*, key: str) -> None:
    st.camera_input("Camera", label_visibility="collapsed", key=_widget_key(key),
                    on_change=_apply_image_upload, args=(key, "camera"))
    show_upload_error(key)


def _read_mask(key: str, name: str, data: bytes, zero: str, *, resize: bool = False) -> None:
    """Attach a mask to the current image, or keep why not under ``key + ".error"``
    (and, for a mask of the image's proportions but not its size, keep it under
    ``key + ".resizable"`` so the page can offer to resize it)."""
    st.session_state.pop(key + ".error", None)
    st.session_state.pop(key + ".resizable", None)
    cur = current()
    try:
        truth, ignore, note = sio.load_mask(data, shape=cur.shape, zero=zero, resize=resize,
                                             max_pixels=cache.MAX_PIXELS)
    except ValueError as err:
        _refuse(key, f"The mask {shown(name)} could not be used: {err}")
        if "can be resized" in str(err):
            st.session_state[key + ".resizable"] = (name, data, cur.key)
        return
    set_current(cur.with_truth(truth, ignore=ignore, note=f"from {shown(name)}: {note}"))


def _apply_mask_upload(key: str, zero_key: str) -> None:
    """Widget callback: attach the uploaded ground-truth mask to the current image;
    a failure is kept under ``key + ".error"`` and leaves the image as it was."""
    upload = st.session_state.get(_widget_key(key))
    if upload is None:
        st.session_state.pop(key + ".error", None)
        return
    _read_mask(key, clean_name(upload.name), upload.getvalue(),
               st.session_state.get(zero_key, "class"))


def _resize_mask(key: str, zero_key: str) -> None:
    name, data, _ = st.session_state[key + ".resizable"]
    _read_mask(key, name, data, st.session_state.get(zero_key, "class"), resize=True)


def mask_uploader(*, key: str, zero_key: str) -> None:
    """The ground-truth mask upload with its convention, for the Image and Evaluate pages."""
    st.radio("In a mask with more than two values, 0 means", ["class", "ignore"], key=zero_key,
             horizontal=True, on_change=_apply_mask_upload, args=(key, zero_key),
             format_func={"class": "a class like any other",
                          "ignore": "not labelled: leave those pixels out"}.get)
    # Any file, as for images; JPEG masks (the Weizmann horses' among them) included.
    st.file_uploader("Ground-truth mask", type=None, key=_widget_key(key),
                     on_change=_apply_mask_upload, args=(key, zero_key))
    show_upload_error(key)
    resizable = st.session_state.get(key + ".resizable")
    if resizable and resizable[2] == current().key:
        h, w = current().shape
        st.button(f"Resize the mask to {w} × {h} and use it", key=key + ".resize",
                  icon=":material/aspect_ratio:", on_click=_resize_mask, args=(key, zero_key),
                  help="Each pixel of the image takes the class of the nearest mask pixel, so no "
                       "new class appears; borders become as coarse as the mask's.")
    st.caption(
        "How masks are read: a mask with exactly two values (black and white, 0/255 or 0/1) "
        "marks background and object and becomes classes 1 (background) and 2 (object), as "
        "for the generated samples. A gray mask with more values keeps them as class ids, and "
        "so does a palette PNG (by its palette indices, as SegLab's label downloads and "
        "PASCAL VOC masks are). A colour mask gets one class per colour, numbered from dark "
        "to bright. A black-and-white mask saved as JPEG (dozens of gray values from its "
        "compression) is read as two classes, and a mask smaller than the image but of its "
        "proportions can be resized to fit.")
