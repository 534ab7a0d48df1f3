"""The Image page: choose the image every page works on, and see what it is."""

import numpy as np
import streamlit as st

from seglab import cache, challenge, gallery, uploads
from seglab.state import current, set_current

st.title("SegLab")
st.markdown(
    "An open lab for image segmentation. Choose an image here, then **Segment** it with any "
    "method, **Compare** methods side by side, and **Evaluate** a result against ground truth. "
    "The lessons under **Learn** show how each method works, on real images and on yours. "
    "The image you choose stays chosen on every page."
)


def use_sample(origin: str, name: str) -> None:
    for key in ("upload_image", "camera_photo", "upload_mask", "upload_challenge", "sample"):
        st.session_state.pop(key + ".error", None)
    try:
        set_current(cache.sample_image(origin, name))
    except ValueError as err:  # a damaged installation; keep the current image
        st.session_state["sample.error"] = f"The sample {name!r} could not be loaded: {err}"


shown, chooser = st.columns([2, 3], gap="large")

with chooser:
    # Only the open tab's content runs (on_change="rerun"): a first visit builds the
    # gallery alone, not three file uploaders and the camera's switch, whose scripts the
    # browser would fetch and run before the page is usable (0.3-0.5 s of a cold start,
    # issue #12). Opening another tab reruns the page.
    samples_tab, upload_tab, camera_tab = st.tabs(
        [":material/photo_library: Samples", ":material/upload: Upload",
         ":material/photo_camera: Camera"], key="image.source", on_change="rerun")

    if upload_tab.open:
        with upload_tab:
            uploads.image_uploader(key="upload_image")
            st.markdown("**Ground truth (optional)** — a mask of the same size as the image, "
                        "to get scores on the Compare and Evaluate pages.")
            uploads.mask_uploader(key="upload_mask", zero_key="mask_zero")
            st.markdown("**A class challenge** — the file your teacher handed out: its image "
                        "becomes the current one (its truth stays hidden until you submit).")
            challenge.file_uploader(key="upload_challenge")

    if camera_tab.open:
        with camera_tab:
            st.caption("Take a picture with your device's camera; it becomes the current "
                       "image.")
            if st.toggle("Turn on the camera", key="camera_on"):
                uploads.camera(key="camera_photo")


with shown:
    cur = current()
    st.subheader(cur.label)
    if cur.description:
        st.caption(cur.description)
    show_truth = False
    if cur.truth is not None:
        show_truth = st.toggle("Show the ground truth", key="home_show_truth")
    if show_truth:
        truth = cache.truth_at(cur, cur.preview.shape[:2])
        st.image(cache.overlay_picture(cur, truth.clip(0), alpha=0.6), width="stretch",
                 caption="Ground-truth classes over the image")
    else:
        st.image(cache.display_picture(cur), width="stretch")
    facts = cur.facts()
    st.markdown(f"**{facts[0]}**")
    for note in facts[1:]:
        st.markdown(f"- {note[0].upper()}{note[1:]}.")
    if cur.truth is not None:
        classes = np.unique(cur.truth).tolist()
        st.markdown(f"- Ground truth: {cur.truth_note}; classes {', '.join(map(str, classes))}.")
    if cur.origin == "scikit-image":
        st.download_button("Download this picture (PNG)", data=cache.skimage_png(cur.name[:-4]),
                           file_name=cur.name, mime="image/png", on_click="ignore",
                           icon=":material/download:",
                           help="Save it to reproduce a result with the Python snippet.")
    st.page_link("pages/lab/segment.py", label="Segment this image",
                 icon=":material/arrow_forward:")
    if cur.origin == "challenge":
        st.page_link(challenge.PAGE, label="Take the challenge", icon=":material/sports_score:")

if samples_tab.open:
    with samples_tab:
        cur = current()
        groups = [("generated", "Generated, with exact ground truth",
                   "Drawn from a known answer, so every score is exact."),
                  ("scikit-image", "Pictures bundled with scikit-image",
                   "Real photographs and scans.")]
        for origin, title, caption in groups:
            st.markdown(f"**{title}** — {caption}")
            items = [s for s in cache.list_samples() if s.origin == origin]
            cols = st.columns(4)
            for i, s in enumerate(items):
                with cols[i % 4]:
                    chosen = cur.origin == origin and (cur.sample == s.name or
                                                       cur.name == s.name + ".png")
                    st.image(gallery.thumbnail(origin, s.name), width="stretch")
                    st.button(s.name, key=f"sample.{origin}.{s.name}", on_click=use_sample,
                              args=(origin, s.name), type="primary" if chosen else "secondary",
                              width="stretch", help=s.description)
        uploads.show_upload_error("sample")
