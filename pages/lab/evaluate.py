"""The Evaluate page: score one result against ground truth, and say what the scores mean."""

import streamlit as st

from segcore import metrics, viz
from seglab import cache, uploads, widgets
from seglab.seeds import seeds_of
from seglab.state import (CurrentImage, current, keep, options_key, persistent, remember_result,
                          results_for)

MATCHING = {"hungarian": "one label per class", "majority": "largest overlap",
            "none": "as they are"}
RUN_HERE = "Run a method here…"

cur = current()
st.title("Evaluate")
st.caption(f"Working on **{cur.label}**. Score a result against the ground truth: how much of "
           "each class it found, where it went wrong, and how well its borders sit.")

with st.expander("Ground truth" + (f": {cur.truth_note}" if cur.truth is not None else
                                   ": none yet"), expanded=cur.truth is None):
    st.markdown("Upload a mask of the image's size; it replaces the current ground truth.")
    uploads.mask_uploader(key="evaluate.mask", zero_key="evaluate.mask_zero")
    cur = current()

if cur.truth is None:
    st.info("This image has no ground truth yet. Upload a mask above, or pick a generated "
            "sample (they come with an exact one) on the Image page.")
    st.stop()


def result_to_score(cur: CurrentImage):
    """The result chosen (or made here) and whether it is at full size; ``None`` when
    a method made here cannot run yet."""
    kept = results_for(cur)
    options = list(kept) + [RUN_HERE]
    newest = options[0]
    if st.session_state.get("evaluate.newest_seen") != (cur.key, newest):
        # A result made since the last visit is the one the user wants to score.
        keep("evaluate.result", newest)
        st.session_state["evaluate.newest_seen"] = (cur.key, newest)
    choice = persistent(st.selectbox, "Result to score", key="evaluate.result", default=newest,
                        valid=lambda v: v in options, options=options,
                        help="Results from the Segment and Compare pages on this image, "
                             "or one made here.")
    if choice != RUN_HERE:
        return kept[choice]["seg"], kept[choice]["full"]
    spec = widgets.method_picker(key="evaluate.method")
    widgets.describe_method(spec, cur)
    with st.expander("Settings", expanded=True):
        params, missing = widgets.method_settings(spec, cur, scope="evaluate")
    if missing:
        st.info("Before this method can run: " + "; ".join(missing) + ".")
        return None
    seeds = seeds_of(cur) if spec.takes_seeds else None
    if spec.seeds == "required" and not seeds:
        st.info(f"{spec.label} needs seeds: place them on the Segment page.")
        return None
    with st.spinner(f"Running {spec.label}…"):
        seg, error = cache.run_method(cur, spec.name, params, seeds=seeds or None)
    if error:
        st.error(f"{spec.label} could not run: {error}.")
        return None
    source = f"Evaluate page: {spec.label}"
    remember_result(cur, source, seg, full=False)
    st.session_state["evaluate.newest_seen"] = (cur.key, source)  # stay on "run here"
    return seg, False


@st.fragment
def evaluate(cur: CurrentImage) -> None:
    left, right = widgets.two_panes()
    with left:
        chosen = result_to_score(cur)
        if chosen is None:
            return
        seg, full = chosen
        match = persistent(st.radio, "Match labels to classes", key="evaluate.match",
                           default="hungarian", valid=lambda v: v in MATCHING,
                           options=list(MATCHING), format_func=MATCHING.get,
                           help="Clustering and superpixel methods number their regions "
                                "arbitrarily. One label per class (Hungarian matching) pairs each "
                                "truth class with the label that overlaps it most, one to one: it "
                                "asks whether the method found the classes. Largest overlap renames "
                                "every label to the class it overlaps most, many to one: it asks "
                                "whether the regions' borders could follow the truth, the fair "
                                "view of superpixels. 'As they are' is for methods whose label "
                                "numbers already are the classes.")
        tolerance = persistent(st.slider, "Boundary tolerance (pixels)", key="evaluate.tolerance",
                               default=2, min_value=0, max_value=10,
                               help="How far a predicted border may lie from the true one and "
                                    "still count as found.")

    image = cur.image if full else cur.preview
    truth = cache.truth_at(cur, seg.labels.shape)
    report, error = cache.evaluate(seg.labels, truth, ignore=cur.truth_ignore, match=match,
                                   tolerance=tolerance)
    with right:
        if error:
            st.error(f"These cannot be compared: {error}.")
            return
        show_report(report, seg, truth, image, tolerance)


def show_report(report: dict, seg, truth, image, tolerance: int) -> None:
    boundary = report["boundary"]
    widgets.metric_row([
        ("Mean IoU", f"{report['iou']:.3f}", ""),
        ("Mean Dice", f"{report['dice']:.3f}", ""),
        ("Pixel accuracy", f"{report['accuracy']:.3f}", ""),
        ("Boundary F1", f"{boundary['f1']:.3f}",
         f"Precision {boundary['precision']:.3f}, recall {boundary['recall']:.3f}, "
         f"within {tolerance} px.")])
    st.markdown(
        "- **IoU** (intersection over union, Jaccard): of all pixels that the result *or* the "
        "truth puts in a class, the share both agree on. Strict: missing half an object "
        "gives 0.5 at best.\n"
        "- **Dice** (F1): twice the overlap over the two sizes added. Always at least the "
        "IoU (Dice = 2·IoU / (1 + IoU)), so it reads more kindly; it ranks results the same.\n"
        "- **Accuracy** counts correct pixels; a large background makes it look good even "
        "when small objects are missed, which IoU and Dice per class do not hide.\n"
        "- **Boundary F1** asks whether the borders sit in the right place, within the "
        "tolerance, whatever the classes on either side: a result that merges two objects "
        "that never touch keeps every border and can score 1 here while one class scores 0.")
    per = report["per_class"]
    rows = [{"class": k, "IoU": v["iou"], "Dice": v["dice"], "precision": v["precision"],
             "recall": v["recall"], "pixels": v["support"]} for k, v in per.items()]
    fmt = {k: st.column_config.NumberColumn(format="%.3f")
           for k in ("IoU", "Dice", "precision", "recall")}
    st.dataframe(rows, hide_index=True, width="stretch", column_config=fmt)
    mapping = report["mapping"]
    if mapping:
        paired = sorted((p, t) for p, t in mapping.items() if t in per)
        shown = ", ".join(f"{p}→{t}" for p, t in paired[:12])
        more = f" and {len(paired) - 12} more" if len(paired) > 12 else ""
        text = f"Matched labels → classes: {shown}{more}."
        missed = [k for k in per if all(t != k for _, t in paired)]
        if missed:
            text += (f" No label was matched to class{'es' if len(missed) > 1 else ''} "
                     f"{', '.join(map(str, missed))}: its pixels went to other classes (see "
                     "the confusion matrix), so its IoU is 0.")
        lonely = report["unmatched"]
        if lonely:
            text += (f" {len(lonely)} more label{'s' if len(lonely) > 1 else ''} "
                     f"({report['unmatched_share']:.0%} of the pixels) found no class of their "
                     "own and count as wrong: matching pairs each class with one label, so a "
                     "result split into many small regions scores low here.")
        st.caption(text)
    a, b = st.columns(2)
    with a:
        st.markdown("**Confusion matrix** (rows: truth, columns: result)")
        st.plotly_chart(viz.confusion_figure(report["table"], report["classes"],
                                             predicted=report["columns"]),
                        width="stretch", key="evaluate.confusion")
    with b:
        classes = report["classes"]
        positive = st.multiselect("Error map for the classes", classes, default=classes[1:],
                                  key=options_key("evaluate.error_classes", classes),
                                  help="These count as object, the rest as background.")
        kinds = metrics.error_kinds(seg.labels, truth, mapping=mapping, positive=positive,
                                    ignore=cur.truth_ignore)
        st.image(viz.display_rgb(viz.error_map(kinds, image=image)), width="stretch")
        st.markdown(viz.error_legend(kinds), unsafe_allow_html=True)


evaluate(cur)
