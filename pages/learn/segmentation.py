"""Lesson: what segmentation is. Classification, detection, semantic, instance and
panoptic answers on one image; every number comes from :mod:`segcore.learn.kinds`."""

import pandas as pd
import streamlit as st

from segcore import viz
from segcore.learn import kinds
from seglab import lesson
from seglab.state import persistent

LESSON = "learn.segmentation"

# Sections are functions that return early instead of calling st.stop(): a run ended
# by st.stop() keeps the state of the widgets it did not reach, and when they are
# drawn again the browser shows their defaults while the script uses the kept values.


@st.cache_data(max_entries=16, show_spinner=False)
def semantic_result(key: str, method: str, _image):
    return kinds.semantic(_image, method=method)


@st.cache_data(max_entries=32, show_spinner=False)
def answers(key: str, method: str, how: str, h: float, min_size: int, _labels):
    return kinds.segmentation_kinds(_labels, how=how, h=h, min_size=min_size)


@st.cache_data(max_entries=8, show_spinner=False)
def truth_instances(key: str, _truth):
    return kinds.true_instances(_truth)


def picture(array, *, side: int = 600):
    return viz.display_rgb(array, side=side)


def numbers(array, top: int, left: int, *, size=kinds.CROP_SIZE) -> pd.DataFrame:
    """A crop of an (H, W) array as a table whose rows and columns are named by their
    pixel coordinates."""
    crop = array[top:top + size[0], left:left + size[1]]
    return pd.DataFrame(crop, index=list(range(top, top + size[0])),
                        columns=[str(c) for c in range(left, left + size[1])])


def semantic_part(img: lesson.LessonImage):
    """Section 1, the semantic map: ``(seg, method, min_size, connected)``, or ``None``
    (said on the page) when the method cannot split the image."""
    st.subheader("1. Every pixel a class")
    left, right = st.columns(2)
    with left:
        method = persistent(st.selectbox, "Semantic method", key=f"{LESSON}.method",
                            default="otsu", options=list(kinds.SEMANTIC_METHODS),
                            format_func=lambda m: kinds.SEMANTIC_METHODS[m].label,
                            valid=lambda m: m in kinds.SEMANTIC_METHODS,
                            help="The method that gives every pixel a class. Thresholds split "
                                 "gray values at one level; k-means groups similar colours.")
    with right:
        min_size = persistent(st.slider, "Ignore specks smaller than (pixels)",
                              key=f"{LESSON}.min_size", default=30, min_value=0, max_value=300,
                              step=5, valid=lambda v: isinstance(v, int) and 0 <= v <= 300,
                              help="Patches of object pixels smaller than this are noise, not "
                                   "objects: they get no instance id.")
    try:
        seg = semantic_result(img.key, method, img.image)
    except ValueError as err:  # a flat image: the method has nothing to split
        st.warning(f"{kinds.SEMANTIC_METHODS[method].label} cannot split this image: {err}. "
                   "Pick another image or method above.")
        return None
    connected = answers(img.key, method, "connected", 0.05, min_size, seg.labels)
    h, w = seg.labels.shape
    left, right = st.columns(2)
    left.image(picture(img.image, side=500), caption=f"The image ({w} × {h} pixels)",
               width="stretch")
    right.image(picture(kinds.kind_picture(img.image, connected, "semantic"), side=500),
                caption=f"Semantic map: {len(connected.classes)} classes, one colour each",
                width="stretch")
    shape = rf"S \in \{{{', '.join(map(str, connected.classes))}\}}^{{{h} \times {w}}}"
    thresholds = seg.extras.get("thresholds")
    if thresholds:
        st.latex(rf"S(p) = 1 + [\,g(p) > t\,],\quad t = {thresholds[0]:.3f}\qquad " + shape)
        st.caption("g(p) is the gray value of pixel p; [·] is 1 when true, 0 when false.")
    else:
        centres = ", ".join("(" + ", ".join(f"{v:.2f}" for v in c) + ")"
                            for c in seg.extras["centres"])
        st.latex(r"S(p) = \arg\min_{k} \lVert x(p) - \mu_k \rVert^2,\quad \mu = " + centres
                 + r"\qquad " + shape)
        st.caption("x(p) is the colour of pixel p (in Lab, scaled to 0–1); μ_k the centre of "
                   "cluster k.")
    st.markdown(
        f"Class **{connected.background}** covers most of the image border, so the lesson takes "
        f"it as the background (stuff); class **{thing_names(connected)}** holds the objects "
        f"(things): **{thing_share(connected):.0%}** of the pixels. The map says *what* each "
        "pixel is, not *which* object it belongs to.")
    return seg, method, min_size, connected


def thing_names(result) -> str:
    return ", ".join(str(c) for c in result.things) or "none"


def thing_share(result) -> float:
    return float(((result.semantic != result.background) & (result.semantic > 0)).mean())


def predict(img: lesson.LessonImage, method: str, min_size: int, connected) -> bool:
    """The question, asked again for each image, method and speck size."""
    n = connected.n_instances
    specks = f" (and ignores {connected.specks} specks)" if connected.specks else ""
    return lesson.predict_number(
        f"{LESSON}.count",
        "Connected components gives every separate patch of object pixels its own id (pixels "
        f"touching by a side or a corner are one patch; specks under {min_size} pixels are "
        "ignored). How many instances will it find on this image?",
        low=0, high=int(max(60, 2 * n)), step=1, answer=n,
        tolerance=max(1, round(0.1 * n)), context=f"{img.key}:{method}:{min_size}",
        label="Instances",
        explain=f"Connected components finds **{n}** instances here{specks}. Objects that "
                "touch form one patch, so they share one id.")


def five_kinds(img: lesson.LessonImage, method: str, min_size: int, seg, connected):
    """Section 2: the five kinds side by side, and one of them as an array.
    Returns ``(how, h, split)``: the instance method, h, and the watershed's result."""
    st.subheader("2. Five kinds of answer")
    left, right = st.columns(2)
    with left:
        how = persistent(st.radio, "Instances by", key=f"{LESSON}.how", default="connected",
                         options=list(kinds.INSTANCE_METHODS),
                         format_func=kinds.INSTANCE_METHODS.get,
                         valid=lambda v: v in kinds.INSTANCE_METHODS,
                         help="Connected components: one id per patch. Watershed: patches "
                              "are also cut where objects touch, at the waist between them.")
    with right:
        h = persistent(st.slider, "How distinct touching objects must be (h)",
                       key=f"{LESSON}.h", default=0.05, min_value=0.01, max_value=0.5,
                       step=0.01, valid=lambda v: isinstance(v, float) and 0.01 <= v <= 0.5,
                       disabled=how != "watershed",
                       help="For the watershed: the middle of an object must stand h × the "
                            "largest distance above the waist to its neighbour to get an id "
                            "of its own. Higher h splits less.")
    split = answers(img.key, method, "watershed", h, min_size, seg.labels)
    shown = split if how == "watershed" else connected
    n = shown.n_instances
    n_class = int(shown.array("classification"))
    summary = {"classification": kinds.IMAGE_CLASSES[n_class], "detection": f"{n} boxes",
               "semantic": f"{len(shown.classes)} classes", "instance": f"{n} instances",
               "panoptic": f"1 stuff class + {n} things"}
    for col, name in zip(st.columns(len(kinds.KINDS)), kinds.KINDS):
        col.image(picture(kinds.kind_picture(img.image, shown, name), side=300),
                  caption=f"{kinds.KINDS[name]}: {summary[name]}", width="stretch")

    kind = persistent(st.radio, "Look closer at", key=f"{LESSON}.kind", default="semantic",
                      options=list(kinds.KINDS), format_func=kinds.KINDS.get,
                      valid=lambda v: v in kinds.KINDS, horizontal=True)
    # The crop sits where the watershed cuts, so that both methods show their ids there.
    window = kinds.crop_window(split.instances)
    pixelwise = kind not in ("classification", "detection")
    big, facts = st.columns(2)
    drawn = kinds.kind_picture(img.image, shown, kind)
    big.image(picture(kinds.mark_window(drawn, window) if pixelwise else drawn),
              width="stretch", caption=kinds.KINDS[kind] + (
                  "; the white frame is the crop on the right" if pixelwise else ""))
    with facts:
        array_facts(img, shown, kind, how, n_class, window)
    return how, h, split


def array_facts(img: lesson.LessonImage, shown, kind: str, how: str, n_class: int,
                window: tuple[int, int]) -> None:
    """What the output of ``kind`` is as an array: shape, dtype, an equation, numbers."""
    array = shown.array(kind)
    n = shown.n_instances
    h, w = shown.semantic.shape
    top, left = window
    st.markdown(f"**As an array:** shape `{array.shape}`, dtype `{array.dtype}`.")
    if kind == "classification":
        st.latex(rf"y = f(I) \in \{{0, 1\}},\quad y = {n_class}"
                 rf"\ \ (\text{{{kinds.IMAGE_CLASSES[n_class]}}})")
        st.markdown(f"One number for the whole picture: `{int(array)}`. SegLab has no trained "
                    "classifier, so here the answer is read from the instances: the picture "
                    f"*contains objects* when at least one is found ({n} here).")
        return
    if kind == "detection":
        st.latex(rf"B = \{{(r_0, c_0, r_1, c_1)_i\}}_{{i=1}}^{{N}},\quad N = {n}"
                 rf"\ \Rightarrow\ B \in \mathbb{{Z}}^{{{n} \times 4}}")
        st.markdown("One row per object: its top row and left column, and the row and column "
                    "just past its bottom and right edges (scikit-image's `regionprops` of the "
                    "instances).")
        boxes = pd.DataFrame(shown.boxes, columns=["top", "left", "bottom", "right"],
                             index=pd.RangeIndex(1, n + 1, name="object"))
        boxes.insert(0, "class", shown.box_classes)
        st.dataframe(boxes, height=min(35 * (n + 1) + 3, 320))
        return
    where = (f"rows {top}–{top + kinds.CROP_SIZE[0] - 1}, columns "
             f"{left}–{left + kinds.CROP_SIZE[1] - 1}")
    if kind == "semantic":
        st.latex(rf"S \in \{{{', '.join(map(str, shown.classes))}\}}^{{{h} \times {w}}},"
                 rf"\quad K = {len(shown.classes)}")
        st.markdown(f"Class ids at {where}:")
        st.table(numbers(array, top, left))
    elif kind == "instance":
        st.latex(rf"T \in \{{0, \dots, {n}\}}^{{{h} \times {w}}},\quad N = {n}"
                 r",\quad T(p) = 0 \text{ on stuff}")
        st.markdown(f"Object ids at {where} ({kinds.INSTANCE_METHODS[how].lower()}); 0 is no "
                    "object:")
        st.table(numbers(array, top, left))
    else:
        st.latex(rf"P(p) = (S(p), T(p)),\quad P \in \mathbb{{Z}}^{{{h} \times {w} \times 2}},"
                 rf"\quad N = {n}")
        st.markdown("Two numbers per pixel: the class, and the object id (0 on stuff). A speck "
                    f"too small to be an object gets class 0, *void*. At {where}:")
        st.caption("class, P[..., 0]")
        st.table(numbers(array[..., 0], top, left))
        st.caption("object id, P[..., 1]")
        st.table(numbers(array[..., 1], top, left))
    with st.expander("The image's own numbers in this crop"):
        st.caption(f"The input is shape `{img.image.shape}`, dtype `{img.image.dtype}`, values "
                   "0–1; here its first channel.")
        st.table(numbers(img.image[..., 0], top, left).style.format("{:.2f}"))


def where_objects_end(img: lesson.LessonImage, connected, split, how: str, h: float) -> None:
    """Section 3: how the two methods make instances, against the truth if known."""
    st.subheader("3. Where one object ends")
    largest, prominence = kinds.marker_prominence(split.instances > 0, h=h)
    st.latex(r"\text{connected components: } T(p) = T(q) \iff p, q \text{ are joined by a path "
             rf"of touching object pixels}}\ \Rightarrow\ N = {connected.n_instances}")
    st.latex(rf"\text{{watershed: }} d(p) = \min_{{q \notin M}} \lVert p - q \rVert,"
             rf"\quad \max_p d(p) = {largest:.1f} \text{{ pixels}}")
    st.latex(rf"\text{{a peak of }} d \text{{ rises}} \ge \max(h \cdot \max d,\ 0.5) = "
             rf"\max({h:.2f} \times {largest:.1f},\ 0.5) = {prominence:.2f}"
             rf"\ \Rightarrow\ N = {split.n_instances}")
    st.caption("d(p) is how far pixel p lies from the background (M is the set of object "
               "pixels). The watershed gives each peak of d that rises high enough above the "
               "pass to its neighbour a basin of its own, so two round objects touching at a "
               "narrow waist become two instances.")

    truth_ids = None
    if img.truth is None:
        st.caption("No ground truth for this image, so the lesson cannot say how many objects "
                   "there really are; add a mask on the Image page to compare.")
    else:
        truth_ids, exact = truth_instances(img.key, img.truth)
        how_known = ("exact: the discs the image was drawn from" if exact else
                     "its connected pieces: the mask holds classes, not objects, so touching "
                     "objects in it count as one")
        st.markdown(f"The ground truth has **{int(truth_ids.max(initial=0))}** objects "
                    f"({how_known}).")
    rows = []
    for name, result in (("connected", connected), ("watershed", split)):
        row = {"instances by": kinds.INSTANCE_METHODS[name]
               + (f", h = {h:.2f}" if name == "watershed" else ""),
               "instances": result.n_instances}
        if truth_ids is not None:
            c = kinds.compare_instances(result.instances, truth_ids)
            row.update({"matched (IoU ≥ 0.5)": c["matched"],
                        "holding 2+ true objects": c["merged"],
                        "true objects cut in 2+": c["split"],
                        "panoptic quality": round(c["pq"], 3)})
        rows.append(row)
    st.dataframe(pd.DataFrame(rows).set_index("instances by"))

    shown = split if how == "watershed" else connected
    n = shown.n_instances
    if truth_ids is not None:
        c = kinds.compare_instances(shown.instances, truth_ids)
        if how == "connected":
            holds = "holds" if c["merged"] == 1 else "hold"
            text = (f"Connected components found {n} instances where the truth has "
                    f"{c['n_truth']}: {c['merged']} of them {holds} two or more touching "
                    "objects. Switch to the watershed to cut them apart.")
        else:
            text = (f"The watershed at h = {h:.2f} found {n} instances against {c['n_truth']} "
                    f"in the truth ({c['matched']} matched): {c['merged']} still "
                    f"{'holds' if c['merged'] == 1 else 'hold'} more than one object and "
                    f"{c['split']} true {'object is' if c['split'] == 1 else 'objects are'} cut "
                    "in two. Move h to trade one error for the other.")
    else:
        extra = split.n_instances - connected.n_instances
        more = (f"{extra} more: it also cuts where objects touch, and where one object narrows "
                "or has holes" if extra else
                "the same: no object here has a waist narrow enough to cut")
        text = (f"Connected components found {connected.n_instances} instances; the watershed "
                f"at h = {h:.2f} finds {split.n_instances}, {more}. Without a ground truth, "
                "only your eye can say which count is right.")
    lesson.notice(text)


st.title("What segmentation is")
st.markdown(
    "Ask a picture *what is in it?* and there are five kinds of answer, each more detailed "
    "than the last. **Classification** gives one label for the whole picture. **Detection** "
    "puts a box around each object. **Semantic segmentation** gives every pixel a class. "
    "**Instance segmentation** gives the pixels of each object an id of their own. "
    "**Panoptic segmentation** does both at once.")
st.markdown(
    "Objects you can count (coins, cells) are called *things*; the background you cannot count "
    "is *stuff*. Below, all five answers come from one real method on one image, so you can "
    "see what each kind adds, and what each looks like as an array of numbers.")

img = lesson.lesson_image("segmentation", photo="coins", generated="blobs")
part = semantic_part(img)
if part is not None:
    seg, method, min_size, connected = part
    if predict(img, method, min_size, connected):
        how, h, split = five_kinds(img, method, min_size, seg, connected)
        where_objects_end(img, connected, split, how, h)
    else:
        st.caption("Answer the question to see all five kinds of answer side by side.")
        lesson.notice(
            f"{thing_share(connected):.0%} of the pixels are class {thing_names(connected)}, but "
            "nothing in the semantic map says where one object ends and the next begins: two "
            "touching objects are one blob of the same colour.")
