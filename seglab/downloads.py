"""What a user can save from a result: labels, a mask, the overlay, the
parameters and a script that reproduces it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import streamlit as st

import segcore
from segcore import io as sio
from segcore import viz
from segcore.registry import Segmentation, format_value
from segcore.snippet import reproduce_snippet, result_record

from seglab.cache import PREVIEW_PIXELS
from seglab.state import CurrentImage, options_key


def snippet(cur: CurrentImage, seg: Segmentation, *, full: bool, seeds, output: str) -> str:
    """The Python script that reproduces ``seg``; an uploaded file appears under the
    name the user gave it."""
    names = st.session_state.get("upload_names", {})
    params = {k: (Path(names[v]).name if isinstance(v, str) and v in names else v)
              for k, v in seg.params.items()}
    where = dict(seeds=seeds or None, sample=cur.sample,
                 path=cur.name if cur.sample is None else "image.png", output=output,
                 max_pixels=None if full or not cur.is_previewed else PREVIEW_PIXELS)
    try:
        return reproduce_snippet(seg.method, params, **where)
    except ValueError:
        # An uploaded checkpoint's own name is no existing path here; show it anyway.
        code = reproduce_snippet(seg.method, {}, **where)
        return code.replace(f"segcore.segment(image, {seg.method!r}",
                            f"segcore.segment(image, {seg.method!r}, " + ", ".join(
                                f"{k}={v!r}" for k, v in params.items()), 1)


def downloads(cur: CurrentImage, seg: Segmentation, image: np.ndarray, *, full: bool, seeds,
              alpha: float) -> None:
    """The row of download buttons under a result, and the script to reproduce it."""
    stem = f"{cur.file_stem}-{seg.method}"
    size = "" if full or not cur.is_previewed else " (at preview size)"
    st.markdown("**Download**" + size)
    row = st.container(horizontal=True)
    row.download_button(
        "Labels", data=lambda: sio.encode_labels_png(seg.labels), file_name=f"{stem}-labels.png",
        mime="image/png", on_click="ignore", key="dl.labels",
        help="PNG whose pixel values are the labels (0 unlabelled), shown in the labels' "
             "colours; 16-bit gray when there are more than 255 labels.")
    with row.popover("Mask",
                      help="A black and white PNG of the labels you choose."):
        present = [int(v) for v in seg.label_values if v > 0]
        st.caption("Label 1 is usually the background: the darkest class of thresholds and "
                   "clustering.")
        if st.checkbox("White: every label but 1", value=True, key="segment.mask_all"):
            keep = [v for v in present if v != 1] or present
        else:
            keep = st.multiselect("White: these labels", present,
                                  key=options_key("segment.mask_labels", present))
        st.download_button("Download mask PNG", data=lambda: sio.encode_mask_png(seg.labels, keep),
                           file_name=f"{stem}-mask.png", mime="image/png", on_click="ignore",
                           key="dl.mask", disabled=not keep)
    row.download_button(
        "Overlay",
        data=lambda: sio.png_bytes(viz.to_uint8(viz.overlay(image, seg.labels, alpha=alpha))),
        file_name=f"{stem}-overlay.png", mime="image/png", on_click="ignore",
        key="dl.overlay",
        help="PNG of the label colours over the image.")
    record = result_record(seg, image=cur.name, image_shape=cur.shape, seeds=seeds)
    row.download_button(
        "Parameters", data=json.dumps(record, indent=2),
        file_name=f"{stem}-params.json", mime="application/json", on_click="ignore",
        key="dl.params",
        help="JSON with the method, every parameter, the seeds and the image size.")
    # The script writes its own file, so it never overwrites the downloaded labels.
    code = snippet(cur, seg, full=full, seeds=seeds, output=f"{stem}-labels-reproduced.png")
    row.download_button(
        "Script", data=code, file_name=f"{stem}.py", mime="text/x-python", on_click="ignore",
        key="dl.snippet",
        help="A Python script that reproduces this result with segcore.")
    # On request: a code block makes the browser load Streamlit's syntax highlighter
    # (1.5 MB of script) on the first page that draws one, even inside a closed
    # expander; opening the Segment page took 1.4-1.5 s with it, 0.6-0.7 s without.
    if st.toggle("Show the Python that reproduces this result", key="dl.show_script",
                 help="The same script as the Script button, to read or copy here."):
        st.code(code, language="python")
    spec = segcore.get_method(seg.method)
    st.caption("Parameters: " + ", ".join(
        f"{spec.param(k).label} (`{k}`) = {format_value(v)}" for k, v in seg.params.items()
        if spec.is_active(k, seg.params)))
