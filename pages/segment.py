"""The Segment page: one method, its parameters as widgets, the result in several views."""

import numpy as np
import streamlit as st

import segcore

from pages.common import (
    CurrentImage,
    clickable_picture,
    current,
    describe_method,
    display_rgb,
    error_masks,
    fmt_value,
    labels_png,
    mask_png,
    method_picker,
    model_classes,
    named,
    options_key,
    param_widgets,
    params_json,
    probability_names,
    remember_result,
    rgb_png,
    run_method,
    score,
    seed_controls,
    snippet,
    truth_at,
    viz,
    _keep,
    _restore,
)

cur = current()
st.title("Segment")
st.caption(f"Working on **{cur.name}**. Change a setting and the result follows as soon as "
           "you let go of the slider.")

VIEWS = ["Overlay", "Boundaries", "Labels", "Before / after", "Histogram"]


def show_picture(cur: CurrentImage, picture: np.ndarray, seeds, clickable: bool, caption: str = ""):
    if clickable:
        clickable_picture(cur, picture, seeds)
        if caption:
            st.caption(caption)
    else:
        st.image(display_rgb(picture), width="stretch", caption=caption or None)


@st.fragment
def workspace(cur: CurrentImage) -> None:
    controls, result = st.columns([1, 2.3], gap="large")
    with controls:
        spec = method_picker(key="segment.method")
        describe_method(spec, cur)
        with st.container(border=True):
            params, missing = param_widgets(spec, scope="segment")
            for p in spec.params:
                if p.paths and p.name in params:
                    try:
                        classes = model_classes(params[p.name])
                        st.caption("Classes of this model: " + ", ".join(classes))
                    except ValueError as err:  # a missing or unreadable checkpoint, in words
                        missing.append(f"the model must load, but {named(str(err))}")
        seeds = seed_controls(cur, spec) if spec.takes_seeds else []
        full = False
        if cur.is_previewed:
            h, w = cur.shape
            _restore("segment.full", False)
            full = st.toggle(f"Use the full image ({w} × {h})", key="segment.full",
                             help="While you explore, methods run on a preview of about one "
                                  "megapixel. Turn this on for the result at full size; it "
                                  "can take a while.")
            _keep("segment.full")

    with result:
        image = cur.image if full else cur.preview
        clickable = spec.takes_seeds
        work_seeds = segcore.scale_seeds(seeds, cur.shape, image.shape[:2])
        if missing:
            st.info("Before this method can run: " + "; ".join(missing) + ".")
            show_picture(cur, cur.preview, seeds, clickable)
            return
        if spec.seeds == "required" and not seeds:
            st.info(f"{spec.label} grows regions from seeds: click on the picture to place one "
                    "or more seeds (pick each seed's label on the left).")
            show_picture(cur, cur.preview, seeds, clickable)
            return
        if full:
            bar = st.progress(0.0, text=f"Running {spec.label} on the full image…")
            seg, error = run_method(cur, spec.name, params, seeds=seeds, full=True,
                                    progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0)))
            bar.empty()
        else:
            with st.spinner(f"Running {spec.label}…"):
                seg, error = run_method(cur, spec.name, params, seeds=seeds)
        if error:
            st.error(f"{spec.label} could not run: {error}. Your image and settings are kept; "
                     "change a setting and it runs again.")
            show_picture(cur, cur.preview, seeds, clickable)
            return
        remember_result(cur, f"Segment page: {spec.label}", seg, full=full)

        truth = truth_at(cur, image.shape[:2])
        scores = score_error = None
        if truth is not None:
            scores, score_error = score(seg.labels, truth, ignore=cur.truth_ignore)
        cols = st.columns(4)
        cols[0].metric("Run time", f"{seg.elapsed_s:.2f} s" if seg.elapsed_s >= 0.01 else
                       f"{seg.elapsed_s * 1000:.1f} ms", help="Time the method itself took.")
        cols[1].metric("Regions", seg.n_regions, help="Distinct labels in the result (0, "
                                                      "unlabelled, not counted).")
        if scores:
            help_text = ("Against the ground truth, mean over its classes, after matching each "
                         "label to the class it overlaps most. Details on the Evaluate page.")
            cols[2].metric("IoU", f"{scores['iou']:.3f}", help=help_text)
            cols[3].metric("Dice", f"{scores['dice']:.3f}", help=help_text)
        where = "the full image" if full else ("a preview" if cur.is_previewed else "the image")
        notes = [f"Worked on {where}, {image.shape[1]} × {image.shape[0]} pixels."]
        extras = seg.extras
        if extras.get("thresholds") and seg.method == "threshold":
            notes.append("Threshold" + ("s" if len(extras["thresholds"]) > 1 else "") + ": " +
                         ", ".join(f"{t:.3f}" for t in extras["thresholds"]) +
                         (" (median of the local thresholds)." if "threshold_map" in extras
                          else "."))
        if extras.get("adapted"):
            notes.append(f"Channels adapted for the model: {extras['adapted']}.")
        if extras.get("metrics"):
            held_out = extras["metrics"]
            numbers = ", ".join(f"{k.replace('_', ' ').replace('iou', 'IoU')} {v:.3f}"
                                for k, v in held_out.items()
                                if isinstance(v, (int, float)) and not isinstance(v, bool))
            if numbers:
                notes.append(f"Its model card measured, on {held_out.get('split', 'held-out data')}: "
                             f"{numbers}.")
        st.caption(" ".join(notes))

        # Pictures are drawn at preview size: a browser shows no more, and overlays of a
        # full-size result would take seconds on every rerun. Scores above and downloads
        # below use the result at the size it was made.
        shown, shown_labels = image, seg.labels
        if full and cur.is_previewed:
            shown = cur.preview
            shown_labels = segcore.io.resize_labels(seg.labels, shown.shape[:2])
        views = list(VIEWS)
        if seg.probabilities is not None:
            views.append("Probabilities")
        if truth is not None:
            views.append("Errors")
        _restore("segment.view", "Overlay", lambda v: v in views)
        view = st.segmented_control("View", views, key="segment.view", label_visibility="collapsed")
        _keep("segment.view")
        view = view or "Overlay"

        if view == "Overlay":
            a, b = st.columns([3, 1])
            with a:
                _restore("segment.alpha", 0.5)
                alpha = st.slider("Opacity", 0.0, 1.0, step=0.05, key="segment.alpha",
                                  help="0 shows the image, 1 only the label colours.")
                _keep("segment.alpha")
            with b:
                _restore("segment.lines", False)
                lines = st.checkbox("Boundaries", key="segment.lines")
                _keep("segment.lines")
            show_picture(cur, viz.overlay(shown, shown_labels, alpha=alpha, show_boundaries=lines),
                         seeds, clickable)
        elif view == "Boundaries":
            show_picture(cur, viz.boundaries(shown, shown_labels), seeds, clickable,
                         "Region boundaries in yellow.")
        elif view == "Labels":
            show_picture(cur, viz.color_labels(shown_labels), seeds, clickable,
                         "One colour per label; black is unlabelled (0).")
        elif view == "Before / after":
            _restore("segment.split", 50)
            split = st.slider("Reveal the result up to (% of the width)", 0, 100, step=1,
                              key="segment.split")
            _keep("segment.split")
            picture = viz.before_after(shown, shown_labels, position=split / 100,
                                   alpha=float(st.session_state.get("segment.alpha", 0.5)))
            show_picture(cur, picture, seeds, clickable,
                         "Left of the white line: the result. Right: the image as it is.")
        elif view == "Histogram":
            st.plotly_chart(viz.histogram_figure(image, seg), width="stretch",
                            key="segment.histogram")
            st.caption("Gray values of the image, with what the method decided: thresholds as "
                       "red lines, k-means centres dashed, GMM components as curves, otherwise "
                       "the pixels of each label stacked in its colour.")
        elif view == "Probabilities":
            st.plotly_chart(viz.probability_figure(seg.probabilities, names=probability_names(seg)),
                            width="stretch", key="segment.probabilities")
            st.caption("How sure the method is, per label: 1 (yellow) certain, 0 (purple) not at "
                       "all. Uncertain pixels sit near region borders.")
        elif view == "Errors" and score_error:
            st.warning(f"No error map: {score_error}.")
        elif view == "Errors":
            classes = sorted(scores["classes"]) if scores else []
            background = classes[0] if classes else 1
            objects = [c for c in classes if c != background]
            positive = st.multiselect("Object classes", classes, default=objects,
                                      key=options_key("segment.error_classes", classes),
                                      help="The classes counted as 'object'; the rest is "
                                           "background.")
            if scores:
                pred, true = error_masks(shown_labels, truth_at(cur, shown.shape[:2]),
                                         scores["mapping"], positive)
                show_picture(cur, viz.error_map(pred, true, image=shown), seeds, clickable)
                colours = viz.ERROR_COLORS
                st.markdown(
                    "<span style='color:%s'>&#9632;</span> found (true positive) &nbsp; "
                    "<span style='color:%s'>&#9632;</span> wrongly marked (false positive) &nbsp; "
                    "<span style='color:%s'>&#9632;</span> missed (false negative); dimmed image: "
                    "correctly left out." % tuple(
                        "#%02x%02x%02x" % tuple(int(v * 255) for v in colours[k])
                        for k in ("tp", "fp", "fn")), unsafe_allow_html=True)

        downloads(cur, seg, image, full=full, seeds=work_seeds)


def downloads(cur: CurrentImage, seg, image, *, full: bool, seeds) -> None:
    stem = f"{cur.file_stem}-{seg.method}"
    size = "" if full or not cur.is_previewed else " (at preview size)"
    st.markdown("**Download**" + size)
    c = st.columns(5)
    c[0].download_button(
        "Labels", data=lambda: labels_png(seg.labels), file_name=f"{stem}-labels.png",
        mime="image/png", on_click="ignore", icon=":material/download:", key="dl.labels",
        width="stretch",
        help="PNG whose pixel values are the labels (0 unlabelled); 16-bit when there are "
             "more than 255 labels.")
    with c[1].popover("Mask", icon=":material/download:", width="stretch",
                      help="A black and white PNG of the labels you choose."):
        present = [int(v) for v in np.unique(seg.labels) if v > 0]
        st.caption("Label 1 is usually the background: the darkest class of thresholds and "
                   "clustering.")
        if st.checkbox("White: every label but 1", value=True, key="segment.mask_all"):
            keep = [v for v in present if v != 1] or present
        else:
            keep = st.multiselect("White: these labels", present,
                                  key=options_key("segment.mask_labels", present))
        st.download_button("Download mask PNG", data=lambda: mask_png(seg.labels, keep),
                           file_name=f"{stem}-mask.png", mime="image/png", on_click="ignore",
                           key="dl.mask", disabled=not keep)
    alpha = float(st.session_state.get("segment.alpha", 0.5))
    c[2].download_button(
        "Overlay", data=lambda: rgb_png(viz.overlay(image, seg.labels, alpha=alpha)),
        file_name=f"{stem}-overlay.png", mime="image/png", on_click="ignore",
        icon=":material/download:", key="dl.overlay", width="stretch",
        help="PNG of the label colours over the image.")
    c[3].download_button(
        "Parameters", data=params_json(cur, seg, full=full, seeds=seeds),
        file_name=f"{stem}-params.json", mime="application/json", on_click="ignore",
        icon=":material/download:", key="dl.params", width="stretch",
        help="JSON with the method, every parameter, the seeds and the image size.")
    code = snippet(cur, seg, full=full, seeds=seeds)
    c[4].download_button(
        "Script", data=code, file_name=f"{stem}.py", mime="text/x-python", on_click="ignore",
        icon=":material/download:", key="dl.snippet", width="stretch",
        help="A Python script that reproduces this result with segcore.")
    with st.expander("Reproduce this result in Python"):
        st.code(code, language="python")
    spec = segcore.get_method(seg.method)
    st.caption("Parameters: " + ", ".join(f"{k} = {fmt_value(v)}" for k, v in seg.params.items()
                                          if spec.is_active(k, seg.params)))


workspace(cur)
