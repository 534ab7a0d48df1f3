"""The Image page: choose the image every page works on, and see what it is."""

import numpy as np
import streamlit as st

from segcore.io import SUPPORTED_EXTENSIONS

from pages.common import (
    _skimage_png,
    all_samples,
    config_upload_mb,
    current,
    display_rgb,
    image_facts,
    image_from_bytes,
    mask_uploader,
    sample_image,
    set_current,
    show_upload_error,
    thumbnail,
    truth_at,
    viz,
)

st.title("SegLab")
st.markdown(
    "An open lab for image segmentation. Choose an image here, then **Segment** it with any "
    "method, **Compare** methods side by side, and **Evaluate** a result against ground truth. "
    "The image you choose stays chosen on every page."
)


def use_sample(origin: str, name: str) -> None:
    for key in ("upload_image", "camera_photo", "upload_mask", "sample"):
        st.session_state.pop(key + ".error", None)
    try:
        set_current(sample_image(origin, name))
    except ValueError as err:  # a damaged installation; keep the current image
        st.session_state["sample.error"] = f"The sample {name!r} could not be loaded: {err}"


def apply_image_upload(key: str, origin: str) -> None:
    """Widget callback: decode the uploaded file before the script runs, so every part
    of the page shows it; a failure keeps the current image and says why."""
    upload = st.session_state.get(key)
    st.session_state.pop(key + ".error", None)
    if upload is None:
        return
    data = upload.getvalue()
    limit = config_upload_mb()
    if len(data) > limit * 1024 * 1024:
        st.session_state[key + ".error"] = (
            f"{upload.name} is {len(data) / 2**20:.1f} MB; files up to {limit} MB can be "
            "uploaded. Try a smaller or compressed copy.")
        return
    try:
        set_current(image_from_bytes(data, upload.name, origin=origin))
    except ValueError as err:  # segcore.ImageError says what is wrong in plain words
        st.session_state[key + ".error"] = (
            f"{upload.name} could not be used: {err}. The previous image is still chosen.")


shown, chooser = st.columns([2, 3], gap="large")

with chooser:
    samples_tab, upload_tab, camera_tab = st.tabs(
        [":material/photo_library: Samples", ":material/upload: Upload",
         ":material/photo_camera: Camera"])

    with upload_tab:
        formats = ", ".join(e.upper() for e in SUPPORTED_EXTENSIONS if e not in ("jpeg", "tif"))
        st.file_uploader(
            "Image", type=list(SUPPORTED_EXTENSIONS), key="upload_image",
            on_change=apply_image_upload, args=("upload_image", "upload"),
            help=f"{formats}; 8- or 16-bit, gray or colour; up to {config_upload_mb()} MB.")
        show_upload_error("upload_image")
        st.markdown("**Ground truth (optional)** — a mask of the same size as the image, to get "
                    "scores on the Compare and Evaluate pages.")
        mask_uploader(key="upload_mask", zero_key="mask_zero")

    with camera_tab:
        st.caption("Take a picture with your device's camera; it becomes the current image.")
        if st.toggle("Turn on the camera", key="camera_on"):
            st.camera_input("Camera", label_visibility="collapsed", key="camera_photo",
                            on_change=apply_image_upload, args=("camera_photo", "camera"))
            show_upload_error("camera_photo")


with shown:
    cur = current()
    st.subheader(cur.name)
    if cur.description:
        st.caption(cur.description)
    show_truth = False
    if cur.truth is not None:
        show_truth = st.toggle("Show the ground truth", key="home_show_truth")
    if show_truth:
        truth = truth_at(cur, cur.preview.shape[:2])
        picture = viz.overlay(cur.preview, truth.clip(0), alpha=0.6)
        st.image(display_rgb(picture), width="stretch",
                 caption="Ground-truth classes over the image")
    else:
        st.image(display_rgb(cur.preview), width="stretch")
    facts = image_facts(cur)
    st.markdown(f"**{facts[0]}**")
    for note in facts[1:]:
        st.markdown(f"- {note[0].upper()}{note[1:]}.")
    if cur.truth is not None:
        classes = np.unique(cur.truth).tolist()
        st.markdown(f"- Ground truth: {cur.truth_note}; classes {', '.join(map(str, classes))}.")
    if cur.origin == "scikit-image":
        st.download_button("Download this picture (PNG)", data=_skimage_png(cur.name[:-4]),
                           file_name=cur.name, mime="image/png", on_click="ignore",
                           icon=":material/download:",
                           help="Save it to reproduce a result with the Python snippet.")
    st.page_link("pages/segment.py", label="Segment this image", icon=":material/arrow_forward:")

with chooser:
    with samples_tab:
        cur = current()
        groups = [("generated", "Generated, with exact ground truth",
                   "Drawn from a known answer, so every score is exact."),
                  ("scikit-image", "Pictures bundled with scikit-image",
                   "Real photographs and scans.")]
        for origin, title, caption in groups:
            st.markdown(f"**{title}** — {caption}")
            items = [(o, n, d) for o, n, d in all_samples() if o == origin]
            cols = st.columns(4)
            for i, (o, name, text) in enumerate(items):
                with cols[i % 4]:
                    chosen = cur.origin == o and (cur.sample == name or cur.name == name + ".png")
                    st.image(thumbnail(o, name), width="stretch")
                    st.button(name, key=f"sample.{o}.{name}", on_click=use_sample, args=(o, name),
                              type="primary" if chosen else "secondary", width="stretch",
                              help=text)
        show_upload_error("sample")
