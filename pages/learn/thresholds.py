"""Lesson: histograms and thresholds (Otsu, two-means, the other algorithms, scores
against the truth, local thresholds)."""

import streamlit as st

from segcore import learn, viz
from segcore.color import to_gray
from segcore.learn import thresholds as th
from seglab import lesson
from seglab.state import persistent

st.title("Histograms and thresholds")
st.markdown(
    "A gray image is a table of numbers from 0 (black) to 1 (white). Its **histogram** counts "
    "the pixels at each value. Where objects and background differ in brightness the histogram "
    "has two hills, and one **threshold** between them splits the pixels into two classes.\n\n"
    "Where exactly should it go? **Otsu's method** tries every threshold and keeps the one "
    "that makes the two classes' mean brightness most different, weighted by their sizes."
)

# Sections are functions that return early, never st.stop(): a run ended by st.stop()
# keeps the state of the widgets it did not reach, and when they come back the browser
# shows their defaults while the script reads the old values.

# --------------------------------------------------------------------------- 1


def histogram_question(img, curve, otsu: float):
    st.header("1. The histogram", divider="gray")
    predict_col, figure_col = st.columns([2, 3], gap="large")
    with predict_col:
        low, high = float(curve.centres[0]), float(curve.centres[-1])
        revealed = lesson.predict_number(
            "thresholds.otsu",
            "Look at the histogram. Where will Otsu's method put the threshold?",
            low=round(low, 2), high=round(high, 2), answer=otsu, tolerance=0.05, step=0.01,
            context=img.key, label="Your guess (gray value)",
            explain=f"Otsu's threshold is **{otsu:.3f}**. Every threshold in an empty stretch of "
                    "the histogram splits the pixels the same way; Otsu takes the first.")
    with figure_col:
        marks = {"Otsu": otsu} if revealed else {}
        st.plotly_chart(th.histogram_figure(curve, marks=marks, between=revealed),
                        key="thresholds.histogram")
    return revealed, low, high


# --------------------------------------------------------------------------- 2


def otsu_score(img, gray, curve, otsu: float, low: float, high: float):
    st.header("2. Otsu's score at every threshold", divider="gray")
    st.markdown(
        "For a threshold $t$, the pixels at or below it form class 0 (a fraction $\\omega_0$ of "
        "the image, mean $\\mu_0$) and the rest class 1 ($\\omega_1$, $\\mu_1$). Otsu maximises the "
        "**between-class variance**. The total variance never changes, so maximising it is the "
        "same as minimising the variance **within** the classes.")
    t = persistent(st.slider, "Try a threshold (gray value)", key="thresholds.t",
                   default=round(otsu, 2), min_value=round(low, 2), max_value=round(high, 2),
                   step=0.01, valid=lambda v: low <= v <= high)
    i = curve.at(t)
    w0, w1 = curve.weight_below[i], curve.weight_above[i]
    m0, m1 = curve.mean_below[i], curve.mean_above[i]
    st.latex(rf"\sigma_B^2(t) = \omega_0\,\omega_1\,(\mu_0-\mu_1)^2 = {w0:.2f}\cdot{w1:.2f}"
             rf"\cdot({m0:.3f}-{m1:.3f})^2 = {curve.between[i]:.5f}")
    st.latex(rf"\sigma^2 = \sigma_W^2(t) + \sigma_B^2(t):\quad {curve.total:.5f} = "
             rf"{curve.within[i]:.5f} + {curve.between[i]:.5f}")
    best = float(curve.between[curve.best])
    if curve.between[i] >= best * (1 - 1e-3):
        lesson.notice(f"At t = {t:.2f} the between-class variance is at its maximum, "
                      f"{best:.5f} (to within 0.1%): Otsu's threshold is {otsu:.3f}. Move the "
                      "slider and watch the "
                      "within-class variance grow by exactly what the between-class one loses.")
    else:
        lesson.notice(f"At t = {t:.2f} the between-class variance is "
                      f"{100 * (1 - curve.between[i] / best):.1f}% below its maximum at Otsu's "
                      f"{otsu:.3f}; the within-class variance is higher by exactly the same "
                      f"amount, because the total stays {curve.total:.5f}.")
    plot, picture = st.columns([3, 2], gap="large")
    plot.plotly_chart(th.histogram_figure(curve, marks={"your t": t, "Otsu": otsu}, between=True),
                      key="thresholds.between")
    split = (gray > t).astype("int32") + 1
    picture.image(viz.display_rgb(viz.overlay(img.image, split, alpha=0.45), side=480),
                  caption=f"Split at t = {t:.2f}: the two classes in two colours", width="stretch")


# --------------------------------------------------------------------------- 3


def two_means_section(gray, curve, otsu: float):
    st.header("3. Otsu is two-means in one dimension", divider="gray")
    steps = th.two_means(gray)
    last = steps[-1]
    st.markdown(
        "K-means with two clusters on the gray values alternates two steps: split the pixels "
        "halfway between the two means, then recompute the means. Started from the darkest and "
        "the brightest gray value, it stops when the split no longer changes:")
    st.latex(rf"t_{{n+1}} = \frac{{\mu_0(t_n)+\mu_1(t_n)}}{{2}} = "
             rf"\frac{{{last['mean_below']:.3f}+{last['mean_above']:.3f}}}{{2}} = "
             rf"{(last['mean_below'] + last['mean_above']) / 2:.3f}")
    st.dataframe([{"step": n + 1, "threshold": round(s["threshold"], 3),
                   "mean below": round(s["mean_below"], 3), "mean above": round(s["mean_above"], 3),
                   "within-class variance": round(s["within"], 6)} for n, s in enumerate(steps)],
                 hide_index=True)
    gap = last["within"] - float(curve.within[curve.best])
    if gap <= 1e-12:
        lesson.notice(f"Two-means stopped after {len(steps)} steps at t = {last['threshold']:.3f} "
                      f"with within-class variance {last['within']:.6f}: the least there is, the "
                      f"same split as Otsu's {otsu:.3f}. Otsu finds it by trying every threshold; "
                      "two-means by walking to it.")
    else:
        lesson.notice(f"Two-means stopped at t = {last['threshold']:.3f} with within-class variance "
                      f"{last['within']:.6f}, {gap:.6f} more than Otsu's split at {otsu:.3f}: "
                      "walking downhill, it got stuck in a worse split. Trying every threshold, as "
                      "Otsu does, cannot.")


# --------------------------------------------------------------------------- 4


def other_algorithms(img, gray, curve):
    st.header("4. The other algorithms, on the same histogram", divider="gray")
    st.markdown(
        "Otsu is one answer to *where is the valley?* Others ask other questions: **Li** minimises "
        "cross-entropy, **Yen** maximises an entropy measure, **triangle** looks for the point "
        "farthest from a line over the histogram's tail, **isodata** is two-means again, **mean** "
        "takes the average gray value, **minimum** smooths the histogram until two peaks remain.")
    found = th.all_thresholds(gray)
    values = {name: v for name, v in found.items() if not isinstance(v, str)}
    st.plotly_chart(th.histogram_figure(curve, marks=values), key="thresholds.all")
    objects = learn.objects(img.truth) if img.truth is not None else None
    brighter = th.objects_brighter(gray, objects) if objects is not None else True
    scored = (th.threshold_scores(gray, objects, list(values.values()), brighter=brighter)
              if objects is not None else None)
    rows = []
    for n, (name, v) in enumerate(found.items()):
        row = {"algorithm": name, "threshold": v if isinstance(v, str) else round(v, 3)}
        if scored is not None and not isinstance(v, str):
            k = list(values).index(name)
            row |= {"IoU": round(float(scored["iou"][k]), 3), "Dice": round(float(scored["dice"][k]), 3)}
        rows.append(row)
    st.dataframe(rows, hide_index=True)
    spread = max(values.values()) - min(values.values())
    lesson.notice(f"On this image the algorithms' thresholds spread over {spread:.3f} gray values, "
                  f"from {min(values, key=values.get)} ({min(values.values()):.3f}) to "
                  f"{max(values, key=values.get)} ({max(values.values()):.3f}). Where the hills "
                  "are far apart they agree; where they overlap, each question has its own answer.")
    return values, objects, brighter


# --------------------------------------------------------------------------- 5


def best_threshold(gray, curve, otsu: float, objects, brighter: bool):
    st.header("5. Is Otsu's threshold the best one?", divider="gray")
    if objects is None:
        st.info("Scoring a threshold needs the true objects. Choose the generated image at the top "
                "(its truth is exact), or add a ground-truth mask to your image on the Image page.")
    else:
        grid = curve.thresholds
        scores = th.threshold_scores(gray, objects, grid, brighter=brighter)
        best_i = int(scores["iou"].argmax())
        best_t, best_iou = float(grid[best_i]), float(scores["iou"][best_i])
        otsu_iou = float(th.threshold_scores(gray, objects, [otsu], brighter=brighter)["iou"][0])
        st.markdown(
            "With the true objects known, every threshold gets a score: **IoU** (overlap over union "
            "of the found and the true objects) and **Dice** (twice the overlap over their sizes). "
            + ("Here the objects are brighter, so the pixels above the threshold count as objects."
               if brighter else
               "Here the objects are darker, so the pixels at or below the threshold count as "
               "objects."))
        st.latex(r"\mathrm{IoU} = \frac{TP}{TP+FP+FN},\qquad \mathrm{Dice} = \frac{2\,TP}{2\,TP+FP+FN}"
                 rf",\qquad \mathrm{{IoU}}(t_{{Otsu}}={otsu:.3f}) = {otsu_iou:.3f}")
        st.plotly_chart(th.scores_figure(scores, marks={"Otsu": otsu, "best IoU": best_t}),
                        key="thresholds.scores")
        diff = best_t - otsu
        if best_iou - otsu_iou < 0.005:
            lesson.notice(f"Otsu's threshold ({otsu:.3f}) is as good as the best one here: IoU "
                          f"{otsu_iou:.3f} against the best {best_iou:.3f} at {best_t:.3f}. The two "
                          "classes' hills are well apart.")
        else:
            lesson.notice(f"Otsu's threshold sits at {otsu:.3f}; on this image the best IoU "
                          f"threshold is {abs(diff):.3f} {'higher' if diff > 0 else 'lower'} "
                          f"({best_t:.3f}, IoU {best_iou:.3f} against Otsu's {otsu_iou:.3f}). Otsu "
                          "only sees the histogram, not which pixels are objects: when one class is "
                          "much larger or wider, its valley is not where the objects end.")


# --------------------------------------------------------------------------- 6


def local_thresholds():
    st.header("6. Local thresholds on an unevenly lit page", divider="gray")
    st.markdown(
        "One threshold for the whole image fails when the light changes across it. A **local** "
        "threshold gets its own value at every pixel, from the pixels around it. Sauvola's "
        "method uses the mean $m$ and standard deviation $s$ of a window around the pixel:")
    page, _ = lesson.sample_copy("scikit-image", "page")
    page_gray = to_gray(page)
    cols = st.columns(2)
    window = persistent(cols[0].slider, "Window (pixels, odd)", key="thresholds.window", default=31,
                        min_value=3, max_value=101, step=2)
    k = persistent(cols[1].slider, "Weight of local contrast k", key="thresholds.k", default=0.2,
                   min_value=0.0, max_value=0.6, step=0.02)
    local = th.local_against_global(page_gray, window_size=window, std_weight=k)
    dark = local["dark_ink"]
    answer = ("Most of it turns black" if dark["global"] > 0.5 else "The text stays readable")
    if lesson.predict_choice(
            "thresholds.page", "The page is darker at the bottom left. With Otsu's single "
            "threshold, what happens to the darkest quarter of the page?",
            ["The text stays readable", "Most of it turns black"], answer, context="page",
            explain=f"Otsu's single threshold ({local['global']:.3f}) calls "
                    f"{100 * dark['global']:.0f}% of the darkest quarter ink; Sauvola's calls "
                    f"{100 * dark['local']:.0f}% ink there."):
        a = local["at"]
        r, c = local["pixel"]
        st.latex(rf"T = m\left(1 + k\left(\frac{{s}}{{R}} - 1\right)\right) = {a.mean:.3f}"
                 rf"\left(1 + {a.k:.2f}\left(\frac{{{a.std:.3f}}}{{{a.r:g}}} - 1\right)\right)"
                 rf" = {a.threshold:.3f}")
        st.caption(f"Sauvola's threshold at row {r}, column {c} (the red cross), where the two "
                   f"methods disagree the most; Otsu's is {local['global']:.3f} everywhere. "
                   f"$R = {a.r:g}$ is half the range of gray values.")
        left, right = st.columns(2)
        left.image(viz.display_rgb(th.ink_picture(local["global_ink"], local["pixel"]), side=560),
                   caption=f"Otsu: one threshold ({local['global']:.3f}) for every pixel; ink black",
                   width="stretch")
        right.image(viz.display_rgb(th.ink_picture(local["local_ink"], local["pixel"]), side=560),
                    caption=f"Sauvola: window {window} px, k = {k:.2f}; ink black",
                    width="stretch")
        lesson.notice(f"At the red cross Sauvola's threshold is {a.threshold:.3f} and Otsu's "
                      f"{local['global']:.3f}. A window smaller than the letters turns their "
                      "insides to noise; a window much larger than the shading behaves like one "
                      "global threshold again: try 5 and 101.")


img = lesson.lesson_image("thresholds", photo="coins", generated="noisy blobs")
gray = to_gray(img.image)
try:
    curve = th.otsu_curve(gray)
except ValueError as err:
    st.warning(f"This image cannot be thresholded: {err}. Choose another image above.")
    curve = None
if curve is not None:
    otsu = float(curve.threshold)
    revealed, low, high = histogram_question(img, curve, otsu)
    if revealed:
        otsu_score(img, gray, curve, otsu, low, high)
        two_means_section(gray, curve, otsu)
        _, objects, brighter = other_algorithms(img, gray, curve)
        best_threshold(gray, curve, otsu, objects, brighter)
    else:
        st.caption("Commit to a guess and press Reveal to go on.")
local_thresholds()

