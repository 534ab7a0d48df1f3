"""The Evaluate page: score one result against ground truth, and say what the scores mean."""

import numpy as np
import streamlit as st

from segcore import metrics

from pages.common import (
    KEPT,
    CurrentImage,
    _keep,
    _restore,
    current,
    describe_method,
    display_rgb,
    error_masks,
    mask_uploader,
    method_picker,
    options_key,
    param_widgets,
    remember_result,
    results_for,
    run_method,
    score,
    seeds_of,
    truth_at,
    viz,
)

MATCHING = {"hungarian": "one label per class", "majority": "largest overlap",
            "none": "as they are"}

cur = current()
st.title("Evaluate")
st.caption(f"Working on **{cur.name}**. Score a result against the ground truth: how much of "
           "each class it found, where it went wrong, and how well its borders sit.")

RUN_HERE = "Run a method here…"

with st.expander("Ground truth" + (f": {cur.truth_note}" if cur.truth is not None else
                                   ": none yet"), expanded=cur.truth is None):
    st.markdown("Upload a mask of the image's size; it replaces the current ground truth.")
    mask_uploader(key="evaluate.mask", zero_key="evaluate.mask_zero")
    cur = current()

if cur.truth is None:
    st.info("This image has no ground truth yet. Upload a mask above, or pick a generated "
            "sample (they come with an exact one) on the Image page.")
    st.stop()


@st.fragment
def evaluate(cur: CurrentImage) -> None:
    kept = results_for(cur)
    options = list(kept) + [RUN_HERE]
    newest = options[0]
    if st.session_state.get("evaluate.newest_seen") != (cur.key, newest):
        # A result made since the last visit is the one the user wants to score.
        st.session_state.setdefault(KEPT, {})["evaluate.result"] = newest
        st.session_state.pop("evaluate.result", None)
        st.session_state["evaluate.newest_seen"] = (cur.key, newest)
    _restore("evaluate.result", newest, lambda v: v in options)
    left, right = st.columns([1, 2.3], gap="large")
    with left:
        choice = st.selectbox("Result to score", options, key="evaluate.result",
                              help="Results from the Segment and Compare pages on this image, "
                                   "or one made here.")
        _keep("evaluate.result")
        if choice == RUN_HERE:
            spec = method_picker(key="evaluate.method")
            describe_method(spec, cur)
            with st.expander("Settings", expanded=True):
                params, missing = param_widgets(spec, scope="evaluate")
            if missing:
                st.info("Before this method can run: " + "; ".join(missing) + ".")
                return
            seeds = seeds_of(cur) if spec.takes_seeds else None
            if spec.seeds == "required" and not seeds:
                st.info(f"{spec.label} needs seeds: place them on the Segment page.")
                return
            with st.spinner(f"Running {spec.label}…"):
                seg, error = run_method(cur, spec.name, params, seeds=seeds or None)
            if error:
                st.error(f"{spec.label} could not run: {error}.")
                return
            source = f"Evaluate page: {spec.label}"
            remember_result(cur, source, seg, full=False)
            st.session_state["evaluate.newest_seen"] = (cur.key, source)  # stay on "run here"
            full = False
        else:
            seg, full = kept[choice]["seg"], kept[choice]["full"]
        _restore("evaluate.match", "hungarian", lambda v: v in MATCHING)
        match = st.radio("Match labels to classes", list(MATCHING), key="evaluate.match",
                         format_func=MATCHING.get,
                         help="Clustering and superpixel methods number their regions "
                              "arbitrarily. One label per class (Hungarian matching) pairs each "
                              "truth class with the label that overlaps it most, one to one: it "
                              "asks whether the method found the classes. Largest overlap renames "
                              "every label to the class it overlaps most, many to one: it asks "
                              "whether the regions' borders could follow the truth, the fair "
                              "view of superpixels. 'As they are' is for methods whose label "
                              "numbers already are the classes.")
        _keep("evaluate.match")
        _restore("evaluate.tolerance", 2)
        tolerance = st.slider("Boundary tolerance (pixels)", 0, 10, key="evaluate.tolerance",
                              help="How far a predicted border may lie from the true one and "
                                   "still count as found.")
        _keep("evaluate.tolerance")

    image = cur.image if full else cur.preview
    truth = truth_at(cur, seg.labels.shape)
    scores, error = score(seg.labels, truth, ignore=cur.truth_ignore,
                          match=match)
    with right:
        if error:
            st.error(f"These cannot be compared: {error}.")
            return
        ignore = cur.truth_ignore
        pred_b, truth_b = seg.labels, truth
        if ignore is not None:  # unlabelled truth pixels tell nothing about borders either
            pred_b, truth_b = np.where(truth == ignore, 0, seg.labels), truth
        boundary = metrics.boundary_f1(pred_b, truth_b, tolerance=tolerance)
        c = st.columns(4)
        c[0].metric("Mean IoU", f"{scores['iou']:.3f}")
        c[1].metric("Mean Dice", f"{scores['dice']:.3f}")
        c[2].metric("Pixel accuracy", f"{scores['accuracy']:.3f}")
        c[3].metric("Boundary F1", f"{boundary['f1']:.3f}",
                    help=f"Precision {boundary['precision']:.3f}, recall "
                         f"{boundary['recall']:.3f}, within {tolerance} px.")
        st.markdown(
            "- **IoU** (intersection over union, Jaccard): of all pixels that the result *or* the "
            "truth puts in a class, the share both agree on. Strict: missing half an object "
            "gives 0.5 at best.\n"
            "- **Dice** (F1): twice the overlap over the two sizes added. Always at least the "
            "IoU (Dice = 2·IoU / (1 + IoU)), so it reads more kindly; it ranks results the same.\n"
            "- **Accuracy** counts correct pixels; a large background makes it look good even "
            "when small objects are missed, which IoU and Dice per class do not hide.\n"
            "- **Boundary F1** asks whether the borders sit in the right place, within the "
            "tolerance; a result can have a high IoU and ragged borders.")
        per = scores["per_class"]
        rows = [{"class": k, "IoU": v["iou"], "Dice": v["dice"], "precision": v["precision"],
                 "recall": v["recall"], "pixels": v["support"]} for k, v in per.items()]
        fmt = {k: st.column_config.NumberColumn(format="%.3f")
               for k in ("IoU", "Dice", "precision", "recall")}
        st.dataframe(rows, hide_index=True, width="stretch", column_config=fmt)
        matrix, names = scores["confusion"], list(scores["classes"])
        columns = names
        mapping = scores["mapping"]
        if mapping:
            paired = sorted((p, t) for p, t in mapping.items() if t in per)
            lonely = sorted(p for p, t in mapping.items() if t not in per)
            shown = ", ".join(f"{p}→{t}" for p, t in paired[:12])
            more = f" and {len(paired) - 12} more" if len(paired) > 12 else ""
            text = f"Matched labels → classes: {shown}{more}."
            if lonely:
                share = float(np.isin(seg.labels, lonely).mean())
                text += (f" {len(lonely)} more label{'s' if len(lonely) > 1 else ''} "
                         f"({share:.0%} of the pixels) found no class of their own and count "
                         "as wrong: matching pairs each class with one label, so a result "
                         "split into many small regions scores low here.")
                # Show those pixels as a column of their own instead of hiding them.
                pred = metrics.apply_mapping(seg.labels, mapping)
                keep = truth != ignore if ignore is not None else np.ones(truth.shape, bool)
                lost = mapping[lonely[0]]
                matrix = metrics.confusion_matrix(pred[keep], truth[keep],
                                                  labels=names + [lost])[:-1]
                columns = names + ["no class"]
            st.caption(text)
        a, b = st.columns(2)
        with a:
            st.markdown("**Confusion matrix** (rows: truth, columns: result)")
            st.plotly_chart(viz.confusion_figure(matrix, names, predicted=columns),
                            width="stretch", key="evaluate.confusion")
        with b:
            classes = scores["classes"]
            objects = [k for k in classes if k != min(classes)]
            positive = st.multiselect("Error map for the classes", classes, default=objects,
                                      key=options_key("evaluate.error_classes", classes),
                                      help="These count as object, the rest as background.")
            pred, true = error_masks(seg.labels, truth, scores["mapping"], positive)
            st.image(display_rgb(viz.error_map(pred, true, image=image)), width="stretch")
            colours = viz.ERROR_COLORS
            st.markdown(
                "<span style='color:%s'>&#9632;</span> found &nbsp; "
                "<span style='color:%s'>&#9632;</span> wrongly marked &nbsp; "
                "<span style='color:%s'>&#9632;</span> missed" % tuple(
                    "#%02x%02x%02x" % tuple(int(v * 255) for v in colours[k])
                    for k in ("tp", "fp", "fn")), unsafe_allow_html=True)


evaluate(cur)
