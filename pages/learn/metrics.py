"""Lesson: metrics (IoU and Dice, accuracy, precision and recall, one bad object, boundary F1,
matching, AP and PQ). Scores from :mod:`segcore.metrics`; experiments from segcore.learn.metrics."""

import numpy as np
import streamlit as st

from segcore import learn, metrics, viz
from segcore.learn import kinds
from segcore.learn import metrics as lm
from seglab import lesson
from seglab.state import persistent

GENERATED = "noisy blobs"
GROWS, PADS, TOLERANCES = list(range(-10, 11)), list(range(0, 301, 20)), list(range(11))


@st.cache_data(max_entries=8, show_spinner=False)
def true_objects(key: str, _truth: np.ndarray) -> np.ndarray:
    return kinds.true_instances(_truth)[0]


@st.cache_data(max_entries=16, show_spinner=False)
def found_objects(key: str, sigma: float, how: str, _image: np.ndarray) -> np.ndarray:
    return lm.method_objects(_image, sigma=sigma, how=how)


@st.cache_data(max_entries=8, show_spinner=False)
def accuracy_curve(key: str, _mask: np.ndarray) -> dict:
    return lm.background_curve(_mask, lm.moved(_mask, shift=(0, 3)), PADS)


@st.cache_data(max_entries=32, show_spinner=False)
def boundary_curve(key: str, shift: int, _mask: np.ndarray) -> np.ndarray:
    return lm.boundary_curve(lm.moved(_mask, shift=(0, shift)), _mask, TOLERANCES)


def show(picture, caption: str, *, side: int = 420, where=st) -> None:
    where.image(viz.display_rgb(picture, side=side), caption=caption, width="stretch")


def generated():
    return (*lesson.sample_copy("generated", GENERATED), "generated:" + GENERATED)


def working_image(img: lesson.LessonImage):
    """``(image, truth classes, key)``; without objects and background, the generated one's."""
    image, truth, key = img.image, img.truth, img.key
    if truth is None or not 0 < learn.objects(truth).mean() < 1:
        why = ("has no ground truth" if truth is None else
               "has a truth without objects and background")
        st.info(f"Your image {why}, and every score here needs both: the lesson works on the "
                f"generated image ({GENERATED}) instead. Add a mask on the Image page to score "
                "your own.", icon=":material/info:")
        image, truth, key = generated()
    return image, truth, key


def overlap(image, mask, key):
    st.header("1. Overlap: IoU and Dice", divider="gray")
    st.markdown(
        "A segmentation is scored against the truth pixel by pixel. Pixels marked in both are "
        "**true positives** (TP); marked but not true, **false positives** (FP); true but "
        "missed, **false negatives** (FN). **IoU** (intersection over union, or Jaccard) and "
        "**Dice** (or F1) both reward the overlap.")
    st.latex(r"\mathrm{IoU} = \frac{TP}{TP+FP+FN},\qquad \mathrm{Dice} = \frac{2\,TP}{2\,TP+FP+FN}")
    iou3, dice3 = (metrics.binary_scores(lm.moved(mask, grow=3), mask)[k] for k in ("iou", "dice"))
    ask, picture = st.columns([2, 3], gap="large")
    with ask:
        revealed = lesson.predict_choice(
            "metrics.grow", "Take the truth itself as the prediction: IoU = Dice = 1. Now grow "
            "it by 3 pixels all round (right). Which score falls more?",
            ["IoU", "Dice", "They fall equally"],
            "IoU" if dice3 - iou3 > 1e-9 else "They fall equally", context=key,
            explain=f"IoU falls to **{iou3:.3f}**, Dice only to **{dice3:.3f}**. Both have TP on "
                    "top, but Dice counts TP twice, so the same errors weigh less in it.")
    show(lm.error_picture(image, lm.moved(mask, grow=3), mask),
         "The truth grown by 3 px: found pixels green, wrongly marked orange", side=520,
         where=picture)
    if not revealed:
        st.caption("Commit to an answer and press Reveal to open the explorer.")
        return
    st.markdown("**The explorer.** Move, grow or erode the prediction and watch both scores.")
    cols = st.columns(3)
    right = persistent(cols[0].slider, "Shift right (px)", key="learn.metrics.shift_right",
                       default=3, min_value=-15, max_value=15)
    down = persistent(cols[1].slider, "Shift down (px)", key="learn.metrics.shift_down",
                      default=0, min_value=-15, max_value=15)
    grow = persistent(cols[2].slider, "Grow (+) or erode (−) (px)", key="learn.metrics.grow",
                      default=0, min_value=-10, max_value=10)
    pred = lm.moved(mask, shift=(down, right), grow=grow)
    s = metrics.binary_scores(pred, mask)
    iou = s["iou"]
    st.latex(lm.overlap_latex(s))
    left, middle, last = st.columns([4, 4, 3], gap="medium")
    with left:
        show(lm.error_picture(image, pred, mask), "This prediction against the truth")
        st.markdown(viz.error_legend(np.array([1, 2, 3])), unsafe_allow_html=True)
    curve = lm.grow_curve(mask, GROWS, shift=(down, right))
    middle.plotly_chart(lm.curve_figure(GROWS, {"IoU": curve["iou"], "Dice": curve["dice"]},
                                        x_title="grow (+) or erode (−), px, at this shift",
                                        marks={"now": grow}), key="learn.metrics.grow_curve")
    last.plotly_chart(lm.identity_figure(iou, s["dice"]), key="learn.metrics.identity")
    lesson.notice(
        f"Here IoU is {iou:.3f} and Dice {s['dice']:.3f}, {s['dice'] - iou:.3f} higher. Every "
        "prediction lies on the same curve (right): Dice is a fixed function of IoU, so for one "
        "mask the two rank predictions alike. Compare an IoU only with an IoU.")


def accuracy(image, mask, key):
    st.header("2. Pixel accuracy and the background", divider="gray")
    st.markdown(
        "**Pixel accuracy** is the share of all pixels labelled right, object or background. "
        "It counts the **true negatives** (TN), background called background; IoU and Dice "
        "never look at them.")
    st.latex(r"\mathrm{accuracy} = \frac{TP+TN}{TP+TN+FP+FN}")
    answer = 1 - float(mask.mean())
    ask, picture = st.columns([2, 3], gap="large")
    with ask:
        revealed = lesson.predict_number(
            "metrics.accuracy", "A lazy prediction marks **no pixel at all** as object. Look "
            "at the truth (right). What pixel accuracy does it get?", low=0.0, high=1.0,
            step=0.01, answer=answer, tolerance=0.05, context=key, label="Your guess (accuracy)",
            explain=f"**{answer:.3f}**: every background pixel is right. Its IoU is **0**.")
    show(np.where(mask, 1.0, 0.15)[..., None], "The truth: objects white", side=520, where=picture)
    if not revealed:
        return
    pad = persistent(st.slider, "Extra background around the image (px)",
                     key="learn.metrics.frame", default=100, min_value=0, max_value=300,
                     step=20, help="Frame the image, its truth and the predictions in background.")
    curve, i = accuracy_curve(key, mask), PADS.index(pad)
    framed = lm.with_background(mask, pad)
    empty = metrics.binary_scores(np.zeros_like(framed), framed)
    shifted = metrics.binary_scores(lm.with_background(lm.moved(mask, shift=(0, 3)), pad), framed)
    st.latex(lm.accuracy_latex(empty, shifted, "truth shifted 3 px"))
    left, right = st.columns([2, 3], gap="large")
    show(lm.framed_picture(image, lm.moved(mask, shift=(0, 3)), mask, pad),
         f"The truth shifted 3 px, framed by {pad} px of background", where=left)
    names = {"accuracy (nothing marked)": "empty_accuracy", "IoU (nothing marked)": "empty_iou",
             "accuracy (shifted 3 px)": "accuracy", "IoU (shifted 3 px)": "iou"}
    right.plotly_chart(lm.curve_figure(PADS, {k: curve[v] for k, v in names.items()},
                                       x_title="extra background (px)", marks={"now": pad},
                                       dashed=list(names)[:2]), key="learn.metrics.accuracy_curve")
    lesson.notice(
        f"Framed by {pad} px, the objects cover {100 * curve['object_share'][i]:.1f}% of the "
        f"image: marking nothing scores {100 * empty['accuracy']:.1f}% accuracy and the shifted "
        f"truth {100 * shifted['accuracy']:.1f}%, while their IoUs stay 0 and "
        f"{shifted['iou']:.3f}. On imbalanced images accuracy mostly measures the background.")


def precision_recall(image, mask, key):
    st.header("3. Precision and recall", divider="gray")
    st.markdown(
        "Two questions split the errors apart. **Precision**: of what I marked, how much is "
        "object? **Recall**: of the objects, how much did I mark? Dice is their harmonic mean.")
    eroded = metrics.binary_scores(lm.moved(mask, grow=-4), mask)
    p4, r4 = eroded["precision"], eroded["recall"]
    revealed = lesson.predict_choice(
        "metrics.erode", "Erode the truth by 4 px and call that the prediction. Which stays "
        "exactly 1?", ["Precision", "Recall", "Neither"],
        "Precision" if p4 == 1 else "Recall" if r4 == 1 else "Neither", context=key,
        explain=f"Eroded by 4 px: precision **{p4:.3f}**, recall **{r4:.3f}**. An eroded mask "
                "lies inside the truth: it marks nothing wrong (FP = 0) but misses the rim.")
    if not revealed:
        return
    grow = persistent(st.slider, "Grow (+) or erode (−) the truth (px)",
                      key="learn.metrics.pr_grow", default=-4, min_value=-10, max_value=10)
    pred = lm.moved(mask, grow=grow)
    s = metrics.binary_scores(pred, mask)
    p, r = s["precision"], s["recall"]
    st.latex(lm.precision_recall_latex(s))
    left, right = st.columns([2, 3], gap="large")
    show(lm.error_picture(image, pred, mask),
         f"The truth {'grown' if grow >= 0 else 'eroded'} by {abs(grow)} px", where=left)
    curve = lm.grow_curve(mask, GROWS)
    right.plotly_chart(lm.curve_figure(GROWS, {k: curve[k.lower()] for k in
                                               ("Precision", "Recall", "Dice")},
                                       x_title="grow (+) or erode (−), px", marks={"now": grow}),
                       key="learn.metrics.pr_curve")
    lesson.notice(
        f"Precision {p:.3f}, recall {r:.3f}, Dice {s['dice']:.3f}. Eroding keeps precision at 1 "
        "and costs recall; growing keeps recall at 1 and costs precision. The harmonic mean "
        "stays near the lower of the two: Dice cannot be bought with one of them alone.")


def bad_object(image, objects, key):
    st.header("4. One bad object: IoU or Dice?", divider="gray")
    if objects.max() < 2:
        st.caption("This image has one object and this section needs several: it works on "
                   f"the generated image ({GENERATED}).")
        image, truth, key = generated()
        objects = true_objects(key, truth)
    st.markdown("With many objects, a score can be averaged **over the objects** (each "
                "object's IoU, then their mean) or **pooled** over all object pixels at once.")
    n = int(np.unique(objects[objects > 0]).size)
    start = lm.object_scores(lm.one_bad_object(objects, lm.pick_object(objects, "the smallest"),
                                               shift=(0, 4)), objects)
    revealed = lesson.predict_choice(
        "metrics.bad", f"All {n} objects are predicted perfectly except the smallest, shifted "
        "4 px to the right. Averaged over the objects, which falls more below 1?",
        ["Mean IoU", "Mean Dice", "They fall equally"],
        "Mean IoU" if start["mean_dice"] - start["mean_iou"] > 1e-9 else "They fall equally",
        context=key, explain=f"Mean IoU falls to **{start['mean_iou']:.3f}**, mean Dice to "
                             f"**{start['mean_dice']:.3f}**: the bad object's IoU is below its "
                             "Dice, and each counts 1/n in its mean.")
    if not revealed:
        return
    cols = st.columns(2)
    which = persistent(cols[0].radio, "Which object goes wrong", key="learn.metrics.bad_object",
                       default="the smallest", options=list(lm.OBJECT_CHOICES), horizontal=True)
    shift = persistent(cols[1].slider, "Shift it right (px)", key="learn.metrics.bad_shift",
                       default=4, min_value=0, max_value=20)
    bad = lm.pick_object(objects, which)
    pred = lm.one_bad_object(objects, bad, shift=(0, shift))
    s = lm.object_scores(pred, objects)
    st.latex(lm.means_latex(s, bad))
    left, right = st.columns([2, 3], gap="large")
    show(lm.error_picture(image, pred > 0, objects > 0), f"{which.capitalize()} object "
         f"({s['size'][list(s['ids']).index(bad)]} px) shifted {shift} px", where=left)
    right.dataframe(lm.object_table(s, bad), hide_index=True, height=min(420, 36 * (n + 1) + 3))
    lesson.notice(lm.bad_object_notice(s, bad))


def boundary(image, mask, key):
    st.header("5. Boundary F1", divider="gray")
    st.markdown(
        "IoU hardly notices a ragged outline on a big object. **Boundary F1** scores outlines "
        "alone: a predicted boundary pixel counts when a true boundary lies within a "
        "**tolerance** (precision $P_b$), a true one when a predicted one does (recall $R_b$).")
    iou2 = metrics.binary_scores(lm.moved(mask, shift=(0, 2)), mask)["iou"]
    answer = float(boundary_curve(key, 2, mask)[2])
    revealed = lesson.predict_number(
        "metrics.boundary", f"Shift the truth 2 px to the right: its IoU falls to {iou2:.3f}. "
        "At a tolerance of 2 px, what boundary F1 will it get?", low=0.0, high=1.0, step=0.05,
        answer=answer, tolerance=0.05, context=key, label="Your guess (boundary F1)",
        explain=f"**{answer:.3f}**: " + ("no boundary pixel moved farther than the tolerance."
                                         if answer > 0.999 else "most boundary pixels moved 2 px, "
                                         "within the tolerance; where objects meet the frame the "
                                         "outline itself changed."))
    if not revealed:
        return
    cols = st.columns(2)
    shift = persistent(cols[0].slider, "Shift right (px)", key="learn.metrics.edge_shift",
                       default=2, min_value=0, max_value=10)
    tol = persistent(cols[1].slider, "Tolerance (px)", key="learn.metrics.tolerance", default=2,
                     min_value=0, max_value=10)
    pred = lm.moved(mask, shift=(0, shift))
    bf = metrics.boundary_f1(pred, mask, tolerance=tol)
    pixels = lm.boundary_pixels(pred, mask, tolerance=tol)
    st.latex(lm.boundary_latex(bf, pixels))
    left, right = st.columns([2, 3], gap="large")
    show(lm.boundary_picture(image, pixels), "Predicted boundary near a true one green, too "
         "far orange; true boundary found white, missed blue", where=left)
    iou = metrics.binary_scores(pred, mask)["iou"]
    right.plotly_chart(lm.curve_figure(TOLERANCES, {"boundary F1": boundary_curve(key, shift, mask),
                                                    "IoU": [iou] * len(TOLERANCES)},
                                       x_title="tolerance (px)", marks={"now": tol}),
                       key="learn.metrics.boundary_curve")
    lesson.notice(
        f"Shifted {shift} px, at {tol} px tolerance: boundary F1 {bf['f1']:.3f}, IoU {iou:.3f}. "
        "A border off by up to the tolerance counts as found, one off by more as wrong however "
        "close: state the tolerance with every boundary score.")


def instances(image, objects, key):
    st.header("6. Objects: matching, AP and panoptic quality", divider="gray")
    st.markdown(
        "Now a real method finds the objects: blur, Otsu's threshold, then cut the object pixels "
        "into pieces. **Matching** pairs a found object with a true one when their IoU reaches a "
        "threshold, each at most once; unpaired found objects are FP, unpaired true ones FN.")
    n = int(np.unique(objects[objects > 0]).size)
    try:
        first = found_objects(key, 1.0, "connected", image)
    except ValueError as err:  # a flat image: Otsu has nothing to split
        st.warning(f"Otsu's threshold cannot split this image: {err}. Choose another above.")
        return
    told = kinds.compare_instances(first, objects)
    ask, left, right = st.columns([3, 2, 2], gap="medium")
    show(viz.overlay(image, first), f"Blur 1 px, Otsu, connected pieces: {told['n_pred']} "
         "objects found", where=left)
    show(viz.overlay(image, objects), f"The truth: {n} object{'s' * (n != 1)}", where=right)
    with ask:
        revealed = lesson.predict_number(
            "metrics.matched", f"The truth has {n} object{'s' * (n != 1)}. At IoU ≥ 0.5, how "
            "many will be matched to a found one?", low=0, high=n, answer=told["matched"],
            tolerance=0, context=key, label="Your guess (objects)",
            explain=f"**{told['matched']}** of {n}. " + (
                f"{told['merged']} found piece(s) each cover most of two or more true objects "
                "(they touch) and can match one at most. " if told["merged"] else "") +
            "A found object matches only when it overlaps one true object well enough.")
    if not revealed:
        return
    cols = st.columns(3)
    sigma = persistent(cols[0].slider, "Blur before Otsu (sigma, px)", key="learn.metrics.sigma",
                       default=1.0, min_value=0.0, max_value=3.0, step=0.5)
    how = persistent(cols[1].radio, "Objects from the pixels", key="learn.metrics.how",
                     default="connected", options=list(kinds.INSTANCE_METHODS),
                     format_func=kinds.INSTANCE_METHODS.get)
    t = persistent(cols[2].slider, "IoU threshold to match", key="learn.metrics.threshold",
                   default=0.5, min_value=0.05, max_value=0.95, step=0.05)
    found = found_objects(key, sigma, how, image)
    m = metrics.match_instances(found, objects, threshold=t)
    ap, pq = metrics.average_precision(found, objects), metrics.panoptic_quality(found, objects)
    st.latex(lm.objects_latex(m, ap, pq, t))
    left, right = st.columns([2, 3], gap="large")
    show(lm.match_picture(image, found, objects, m["pairs"]), "Matched found objects "
         "green, unmatched orange; true outlines matched white, missed blue", where=left)
    right.plotly_chart(lm.curve_figure(ap["thresholds"], {"AP_t": ap["per_threshold"]},
                                       x_title="IoU threshold t", marks={"now": t}),
                       key="learn.metrics.ap_curve")
    px = metrics.binary_scores(found > 0, objects > 0)
    row = {**{k: px[k.lower()] for k in ("IoU", "Dice", "precision", "recall", "accuracy")},
           "boundary F1 (2 px)": metrics.boundary_f1(found > 0, objects > 0, tolerance=2)["f1"],
           "AP": ap["ap"], "PQ": pq["pq"]}
    st.dataframe([{k: round(float(v), 3) for k, v in row.items()}], hide_index=True)
    lesson.notice(
        f"The same result scored every way (table): pixel IoU {px['iou']:.3f}, {m['tp']} of {n} "
        f"true objects matched at {t:.2f}, AP {ap['ap']:.3f}. " + (
            "Pixels and objects agree here; blur more or split with the watershed, and watch the "
            "object scores fall while pixel IoU hardly moves." if m["tp"] == n and not m["fp"]
            else "Splitting touching objects changes no pixel's class, so pixel IoU stays; the "
            "object scores do not."))


st.title("Metrics")
st.markdown(
    "How good is a segmentation? Only a comparison with the truth can say, and every score "
    "answers a different question. This lesson makes predictions with known errors (shifted, "
    "grown, eroded, one object wrong) and then scores a real method's result every way.")
img = lesson.lesson_image("metrics", photo="horse", generated=GENERATED)
image, truth, key = working_image(img)
mask, objects = learn.objects(truth), true_objects(key, truth)
overlap(image, mask, key)
accuracy(image, mask, key)
precision_recall(image, mask, key)
bad_object(image, objects, key)
boundary(image, mask, key)
instances(image, objects, key)
