"""The Segment page: one method, its parameters as widgets, the result in several views."""

import streamlit as st

import segcore
from segcore import metrics, viz
from seglab import cache, widgets
from seglab.downloads import downloads
from seglab.seeds import seed_controls, show_picture
from seglab.state import CurrentImage, current, keep, options_key, persistent, remember_result

cur = current()
st.title("Segment")
st.caption(f"Working on **{cur.label}**. Change a setting and the result follows as soon as "
           "you let go of the slider.")

VIEWS = ["Overlay", "Boundaries", "Labels", "Before / after", "Histogram"]


@st.fragment
def workspace(cur: CurrentImage, full: bool) -> None:
    controls, result = widgets.two_panes()
    with controls:
        spec = widgets.method_picker(key="segment.method")
        widgets.describe_method(spec, cur)
        with st.container(border=True):
            params, missing = widgets.method_settings(spec, cur, scope="segment")
        seeds, clickable = seed_controls(cur, spec) if spec.takes_seeds else ([], False)

    with result:
        image = cur.image if full else cur.preview
        if missing:
            st.info("Before this method can run: " + "; ".join(missing) + ".")
            show_picture(cur, cur.preview, seeds, clickable=clickable)
            return
        if spec.seeds == "required" and not seeds:
            st.info(f"{spec.label} grows regions from seeds: click on the picture to place one "
                    "or more seeds (pick each seed's label on the left).")
            show_picture(cur, cur.preview, seeds, clickable=clickable)
            return
        if full:
            seg, error = run_full(cur, spec, params, seeds)
        else:
            with st.spinner(f"Running {spec.label}…"):
                seg, error = cache.run_method(cur, spec.name, params, seeds=seeds)
        if error:
            st.error(f"{spec.label} could not run: {error}. Your image and settings are kept; "
                     "change a setting and it runs again.")
            show_picture(cur, cur.preview, seeds, clickable=clickable)
            return
        remember_result(cur, f"Segment page: {spec.label}", seg, full=full)
        show_result(cur, spec, seg, image, seeds, full=full, clickable=clickable)


def back_to_preview() -> None:
    keep("segment.full", False)


def full_image_switch(cur: CurrentImage) -> bool:
    """The full-image toggle and, while it is on, the Stop button. Both live outside the
    workspace fragment: a click outside a fragment reruns the whole page, which stops a
    run in progress at its next progress report (a click inside would wait for it)."""
    if not cur.is_previewed:
        return False
    h, w = cur.shape
    with st.container(horizontal=True, vertical_alignment="center"):
        full = persistent(st.toggle, f"Use the full image ({w} × {h})", key="segment.full",
                          default=False, help="While you explore, methods run on a preview of about one "
                                "megapixel. Turn this on for the result at full size; it can "
                                "take a while.")
        if full:
            st.button("Stop and go back to the preview", on_click=back_to_preview,
                      key="segment.stop", icon=":material/stop_circle:")
    return full


def run_full(cur: CurrentImage, spec, params, seeds):
    """The method on the full image with a progress bar: the method's own reports,
    or an estimate from the preview's run time (the run then goes on in a worker
    process that Stop ends at once). Stop takes effect at the next report."""
    h, w = cur.shape
    preview, _ = cache.run_method(cur, spec.name, params, seeds=seeds)  # kept: no rerun
    expected = None if preview is None else preview.elapsed_s * cur.image[..., 0].size / \
        cur.preview[..., 0].size
    text = f"Running {spec.label} on the full image ({w} × {h})…"
    if not spec.reports_progress and expected:
        text = (f"Running {spec.label} on the full image ({w} × {h}): about {expected:.0f} s, "
                "estimated from the preview…")
    bar = st.progress(0.0, text=text)
    result = cache.run_method(cur, spec.name, params, seeds=seeds, full=True, expected_s=expected,
                              progress=lambda f: bar.progress(min(max(float(f), 0.0), 1.0)))
    bar.empty()
    return result


def show_result(cur: CurrentImage, spec, seg, image, seeds, *, full: bool,
                clickable: bool) -> None:
    truth = cache.truth_at(cur, image.shape[:2])
    scores = score_error = None
    if truth is not None:
        scores, score_error = cache.evaluate(seg.labels, truth, ignore=cur.truth_ignore)
    took = f"{seg.elapsed_s:.2f} s" if seg.elapsed_s >= 0.01 else f"{seg.elapsed_s * 1000:.1f} ms"
    items = [("Run time", took, "Time the method itself took."),
             ("Regions", str(seg.n_regions),
              "Distinct labels in the result (0, unlabelled, not counted).")]
    if scores:
        help_text = ("Against the ground truth, mean over its classes, after matching each "
                     "label to one class (Hungarian matching). Details on the Evaluate page.")
        items += [("IoU", f"{scores['iou']:.3f}", help_text),
                  ("Dice", f"{scores['dice']:.3f}", help_text)]
    widgets.metric_row(items)
    where = "the full image" if full else ("a preview" if cur.is_previewed else "the image")
    st.caption(" ".join([f"Worked on {where}, {image.shape[1]} × {image.shape[0]} pixels.",
                         *seg.notes]))

    # Pictures are drawn at preview size: a browser shows no more, and overlays of a
    # full-size result would take seconds on every rerun. Scores above and downloads
    # below use the result at the size it was made.
    shown, shown_labels = image, seg.labels
    if full and cur.is_previewed:
        shown = cur.preview
        shown_labels = segcore.io.resize_labels(seg.labels, shown.shape[:2])
    views = list(VIEWS)
    if "probabilities" in spec.offers and seg.probabilities is not None:
        views.append("Probabilities")
    if truth is not None:
        views.append("Errors")
    view = persistent(st.segmented_control, "View", key="segment.view", default="Overlay",
                      valid=lambda v: v in views, options=views,
                      label_visibility="collapsed") or "Overlay"
    alpha = float(st.session_state.get("segment.alpha", 0.5))

    if view == "Overlay":
        a, b = st.columns([3, 1])
        with a:
            alpha = persistent(st.slider, "Opacity", key="segment.alpha", default=0.5, min_value=0.0,
                                max_value=1.0, step=0.05,
                                help="0 shows the image, 1 only the label colours.")
        with b:
            lines = persistent(st.checkbox, "Boundaries", key="segment.lines", default=False)
        show_picture(cur, cache.overlay_picture(cur, shown_labels, alpha=alpha,
                                                show_boundaries=lines),
                     seeds, clickable=clickable)
    elif view == "Boundaries":
        show_picture(cur, viz.boundaries(shown, shown_labels), seeds, clickable=clickable,
                     caption="Region boundaries in yellow.")
    elif view == "Labels":
        show_picture(cur, viz.color_labels(shown_labels), seeds, clickable=clickable,
                     caption="One colour per label; black is unlabelled (0).")
    elif view == "Before / after":
        split = persistent(st.slider, "Reveal the result up to (% of the width)",
                           key="segment.split", default=50, min_value=0, max_value=100, step=1)
        picture = viz.before_after(shown, shown_labels, position=split / 100, alpha=alpha)
        show_picture(cur, picture, seeds, clickable=clickable,
                     caption="Left of the white line: the result. Right: the image as it is.")
    elif view == "Histogram":
        st.plotly_chart(viz.histogram_figure(image, seg), width="stretch",
                        key="segment.histogram")
        marks = viz.histogram_marks(seg)
        st.caption("Gray values of the image" + (", with " + "; ".join(marks) if marks else "")
                   + ".")
    elif view == "Probabilities":
        st.plotly_chart(viz.probability_figure(seg.probabilities, names=viz.label_names(seg)),
                        width="stretch", key="segment.probabilities")
        st.caption("How sure the method is, per label: 1 (yellow) certain, 0 (purple) not at "
                   "all. Uncertain pixels sit near region borders.")
    elif view == "Errors" and score_error:
        st.warning(f"No error map: {score_error}.")
    elif view == "Errors":
        classes = scores["classes"]
        positive = st.multiselect("Object classes", classes, default=classes[1:],
                                  key=options_key("segment.error_classes", classes),
                                  help="The classes counted as 'object'; the rest is "
                                       "background.")
        kinds = metrics.error_kinds(shown_labels, cache.truth_at(cur, shown.shape[:2]),
                                    mapping=scores["mapping"], positive=positive,
                                    ignore=cur.truth_ignore)
        show_picture(cur, viz.error_map(kinds, image=shown), seeds, clickable=clickable)
        st.markdown(viz.error_legend() + "; dimmed image: correctly left out.",
                    unsafe_allow_html=True)

    downloads(cur, seg, image, full=full, alpha=alpha,
              seeds=segcore.scale_seeds(seeds, cur.shape, image.shape[:2]))


workspace(cur, full_image_switch(cur))
