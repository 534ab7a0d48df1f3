"""Lesson: the U-Net, opened (feature maps, what one output pixel sees, skips switched
off, uncertainty along borders, the shipped models on a picture not made for them)."""

import numpy as np
import streamlit as st

from segcore import learn, metrics, viz
from segcore.learn import unet
from segcore.methods.unet import AUTO_MODEL
from segcore.nn.infer import predict
from segcore.nn.models import BUILTIN_MODELS
from seglab import lesson
from seglab.state import persistent

MODELS = {"membrane": "Membrane model (gray electron microscopy)",
          "horse": "Horse model (colour photos of horses)"}
FILLS = {"zeros": "zeros (nothing at all)", "mean": "each channel's average (how much, not where)"}


# Cached per image key and model; the arrays (leading underscore) are not hashed again.
@st.cache_data(max_entries=8, show_spinner=False)
def working_of(key: str, model: str, _image: np.ndarray, _truth):
    return unet.working_copy(_image, _truth, unet.load_model(model)[1])


@st.cache_data(max_entries=8, show_spinner="Running the network…")
def forward_of(key: str, model: str, off: tuple, fill: str, _image: np.ndarray) -> unet.Forward:
    return unet.forward(*unet.load_model(model), _image, skips_off=off, skip_fill=fill)


@st.cache_data(max_entries=8, show_spinner=False)
def likeness_of(key: str, model: str, _run: unet.Forward, _answer: np.ndarray) -> list[float]:
    return [unet.likeness(unet.level_maps(_run, lv), _answer, scale=lv.scale,
                          origin=_run.origin)[0]
            for lv in unet.levels(unet.load_model(model)[1].config)]


@st.cache_data(max_entries=16, show_spinner="Following the gradient back…")
def gradient_of(key: str, model: str, row: int, col: int, _image: np.ndarray) -> np.ndarray:
    return unet.gradient_field(*unet.load_model(model), _image, row, col)


@st.cache_data(max_entries=8, show_spinner="Switching skips off…")
def ablation_of(key: str, model: str, fill: str, _image: np.ndarray) -> dict:
    return unet.skip_ablation(*unet.load_model(model), model, _image, skip_fill=fill)


@st.cache_data(max_entries=8, show_spinner="Running both models…")
def predict_of(key: str, model: str, _image: np.ndarray) -> np.ndarray:
    return predict(_image, *unet.load_model(model))


def show(picture: np.ndarray, caption: str, *, side: int = 560) -> None:
    st.image(viz.display_rgb(picture, side=side), caption=caption, width="stretch")


st.title("The U-Net, opened")
st.markdown(
    "A **U-Net** labels every pixel. Its **encoder** runs two 3 × 3 convolutions and then "
    "halves the image, four times over, doubling the channels each time; its **decoder** "
    "doubles the size back and, at every size, takes in the encoder's map of that size "
    "through a **skip connection**. SegLab ships two trained U-Nets; this lesson opens them "
    "on one image and shows what is inside.")
img = lesson.lesson_image("unet", photo="horse", generated="blobs", max_pixels=40_000)
truth = img.truth
made_for = {"photo": "horse", "generated": "membrane"}.get(img.kind, AUTO_MODEL[img.image.shape[2]])
model = persistent(st.radio, "Network", key=f"learn.unet.model.{img.key}", default=made_for,
                   options=list(BUILTIN_MODELS), format_func=MODELS.get, horizontal=True,
                   valid=lambda v: v in BUILTIN_MODELS,
                   help="Both have the same architecture (4 levels, 16 to 256 channels); "
                        "they differ in what they were trained on.")
work, work_truth = working_of(img.key, model, img.image, truth)
if min(work.shape[:2]) < lesson.MIN_SIDE:
    st.warning(f"At the horse model's scale this image is only {work.shape[1]} × "
               f"{work.shape[0]} pixels: the lesson opens the membrane model instead.")
    model, work, work_truth = "membrane", img.image, truth
card = unet.load_model(model)[1]
if card.max_side is not None:
    st.caption(f"The horse model works at {card.max_side} pixels on the longer side: the lesson "
               f"runs it on a {work.shape[1]} × {work.shape[0]} copy, as the Segment page does.")
key = f"{img.key}:{model}"
run = forward_of(key, model, (), "zeros", work)
objects = None if work_truth is None else learn.objects(work_truth)
own = unet.object_mask(run.probabilities, card, model)
answer = run.probabilities[..., card.classes.index(unet.OBJECT_CLASS[model])]
levels = unet.levels(card.config)
depth = card.config.depth

# Sections are functions that return early, never st.stop() (see seglab.lesson.stop).
# --------------------------------------------------------------------------- 1


def features_section():
    st.header("1. Feature maps, level by level", divider="gray")
    inp = unet.network_input(work, card)
    ph, pw = inp.x.shape[-2:]
    st.markdown(
        f"The network first pads the image to a multiple of $2^{depth} = {2**depth}$ pixels "
        "(mirroring its edges), so that it can be halved four times. Each level holds "
        "**channels**: one picture per learnt filter, bright where the filter answers.")
    bottom = levels[depth]
    st.latex(rf"H_l \times W_l \times C_l = \frac{{{ph}}}{{2^l}} \times \frac{{{pw}}}{{2^l}} "
             rf"\times {card.config.base}\cdot 2^l \;\xrightarrow{{l = {depth}}}\; "
             rf"{ph >> depth} \times {pw >> depth} \times {bottom.channels}")
    like = likeness_of(key, model, run, answer)
    choices = {levels[0].name: 0, bottom.name: depth, levels[-1].name: len(levels) - 1}
    best = max(choices, key=lambda name: like[choices[name]])
    revealed = lesson.predict_choice(
        "unet.levels", "Which level has a channel that looks most like the network's final "
        "answer (the object probability)?", list(choices), best, context=key,
        explain=f"{best}: its most answer-like channel correlates "
                f"{like[choices[best]]:.2f} with the answer.")
    names = [lv.name for lv in levels]
    i = persistent(st.select_slider, "Level", key="learn.unet.level", default=0,
                   options=range(len(levels)), format_func=names.__getitem__,
                   valid=lambda v: v in range(len(levels)))
    maps = unet.level_maps(run, levels[i])
    grid_col, answer_col = st.columns([3, 2], gap="large")
    with grid_col:
        show(unet.channel_grid(maps), f"{levels[i].label}: {maps.shape[0]} channels of "
             f"{maps.shape[2]} × {maps.shape[1]} pixels, each from its lowest value (black) "
             "to its highest (white)", side=700)
    with answer_col:
        show(unet.heat_picture(answer), f"The final answer: probability of "
             f"“{unet.OBJECT_CLASS[model]}” (yellow 1, dark blue 0)", side=400)
        if revealed:
            st.plotly_chart(unet.likeness_figure(names, like), key="learn.unet.likeness")
    if revealed:
        low = int(np.argmin(like))
        lesson.notice(
            f"At {names[i].lower()} the most answer-like channel correlates {like[i]:.2f} with "
            f"the answer; the least answer-like level is {names[low].lower()} ({like[low]:.2f}). "
            "Down the encoder the maps get coarser and answer *what*; up the decoder, with the "
            "skips, they get back *where*.")


# --------------------------------------------------------------------------- 2


def field_section():
    st.header("2. What one output pixel sees", divider="gray")
    st.markdown(
        "An output pixel can only change with a square of input pixels, its **receptive "
        "field**. Each 3 × 3 convolution widens it by one pixel on each side *at its level*, "
        "where neighbouring pixels are $2^l$ input pixels apart, so the deep levels widen it "
        "fast.")
    widths = [unet.field_width(card.config, o)[0] for o in range(2**depth)]
    h, w = work.shape[:2]
    if not lesson.predict_number(
            "unet.field", "How wide, in pixels, is the square of input pixels that can change "
            "one output pixel (away from the image's borders)?", low=0, high=400,
            answer=max(widths), tolerance=30, context=str(max(widths)),
            label="Your guess (pixels)",
            explain=f"It is {max(widths)} pixels wide ({min(widths)} for some pixels, "
                    f"depending on where they sit on the {2**depth}-pixel pooling grid): "
                    f"wider than this whole {w} × {h} image."):
        st.caption("Commit to a guess and press Reveal to see the field.")
        return
    width, terms = unet.encoder_field(card.config)
    st.latex(r"w_\text{enc} = 1 + \sum (k-1)\,j = 1 + " + " + ".join(map(str, terms)) +
             f" = {width}")
    pick, picture = st.columns([2, 3], gap="large")
    row = persistent(pick.slider, "Row of the output pixel", key=f"learn.unet.row.{key}",
                     default=h // 2, min_value=0, max_value=h - 1, valid=lambda v: 0 <= v < h)
    col = persistent(pick.slider, "Column of the output pixel", key=f"learn.unet.col.{key}",
                     default=w // 2, min_value=0, max_value=w - 1, valid=lambda v: 0 <= v < w)
    inp = unet.network_input(work, card)
    wide, n = unet.field_width(card.config, inp.left + col)
    g = gradient_of(key, model, row, col, work)
    field = unet.theoretical_field(card.config, inp, row, col)
    r90, r50 = unet.effective_radius(g, row, col), unet.effective_radius(g, row, col, 0.5)
    with picture:
        show(unet.field_picture(work, g, field, row, col, radius=r90),
             "How much each input pixel changes the red pixel's answer, |∂ log p / ∂ input| "
             "(bright: much). White: the theoretical field's edge, where it ends inside the "
             "image; dashed red: the square holding 90% of it.")
    pick.caption(f"This pixel's column reads {n} bottleneck pixels, each seeing {width} input "
                 f"pixels, {2**depth} apart (below).")
    st.latex(rf"w = w_\text{{enc}} + 2^{depth}(n_\text{{b}} - 1) = {width} + {2**depth}"
             rf"\cdot({n} - 1) = {wide}")
    st.plotly_chart(unet.mass_figure(unet.mass_within(g, row, col), half_width=wide / 2,
                                     radius=r90), key="learn.unet.mass")
    lesson.notice(
        f"In theory this pixel can change with {100 * field.mean():.0f}% of the image's "
        f"pixels; in effect half of the gradient lies within {r50} pixels of it and 90% "
        f"within {r90}: the **effective** field is much smaller than the theoretical "
        f"{wide} pixels, because the paths through the centre are many and those to the "
        "edge few.")


# --------------------------------------------------------------------------- 3


def skips_section():
    st.header("3. Skip connections, switched off", divider="gray")
    st.markdown(
        "The decoder rebuilds the full size from the bottleneck's coarse map. The skips hand "
        "it each encoder level's map of the same size: the *where*. Switch one off and the "
        "decoder gets something else in its place.")
    fill = persistent(st.radio, "Fill a switched-off skip with", key="learn.unet.fill",
                      default="zeros", options=list(unet.SKIP_FILLS), format_func=FILLS.get,
                      horizontal=True, valid=lambda v: v in unet.SKIP_FILLS)
    masks = ablation_of(key, model, fill, work)
    if objects is None:
        st.info("No ground truth here: the IoU below compares each output with the network's "
                "own answer with every skip on. Add a mask on the Image page, or choose the "
                "generated image, to score against the truth.")
    reference = own if objects is None else objects
    ious = {off: unet.iou(m, reference) for off, m in masks.items()}
    options = [f"Level {lv + 1} ({levels[lv].size})" for lv in range(depth)]
    costliest = min(range(depth), key=lambda lv: ious[(lv,)])
    if not lesson.predict_choice(
            "unet.skips", "Which level's skip, switched off alone, costs the most IoU?",
            options, options[costliest], context=f"{key}:{fill}",
            explain=f"{options[costliest]}: IoU falls from {ious[()]:.3f} to "
                    f"{ious[(costliest,)]:.3f}; with every skip off it is "
                    f"{ious[tuple(range(depth))]:.3f}."):
        st.caption("Commit to an answer and press Reveal to switch the skips off.")
        return
    names = ["all on"] + [f"level {lv + 1} off" for lv in range(depth)] + ["all off"]
    st.plotly_chart(unet.ablation_figure(names, list(ious.values())), key="learn.unet.ablation")
    off = persistent(st.multiselect, "Switch off the skips of", key="learn.unet.off",
                     default=[costliest], options=list(range(depth)),
                     format_func=lambda lv: options[lv],
                     valid=lambda v: all(lv in range(depth) for lv in v))
    off = tuple(sorted(off))
    mask = masks[off] if off in masks else unet.object_mask(
        forward_of(key, model, off, fill, work).probabilities, card, model)
    s = metrics.binary_scores(mask, reference)
    st.latex(rf"\mathrm{{IoU}} = \frac{{TP}}{{TP+FP+FN}} = \frac{{{s['tp']}}}{{{s['tp']} + "
             rf"{s['fp']} + {s['fn']}}} = {s['iou']:.3f}")
    for column, m, said in zip(st.columns(2), (masks[()], mask), (
            f"Every skip on: IoU {ious[()]:.3f}",
            f"Off: {', '.join(options[lv] for lv in off) or 'none'}: IoU {s['iou']:.3f}")):
        with column:
            show(unet.outcome_picture(work, m, reference), said, side=480)
    st.markdown(viz.error_legend(), unsafe_allow_html=True)
    lost = ious[()] - s["iou"]
    lesson.notice(
        f"With {len(off)} skip{'s' if len(off) != 1 else ''} off the IoU is {s['iou']:.3f}, "
        f"{abs(lost):.3f} {'below' if lost >= 0 else 'above'} every skip on. " + (
            "Look where the errors sit: along the outline, where the coarse map only knows "
            "*roughly* where the object ends. The skips bring back the localisation."
            if lost > 0.005 else "Switch off more levels: one alone changes little here."))


# --------------------------------------------------------------------------- 4


def uncertainty_section():
    st.header("4. How sure, and where not", divider="gray")
    st.markdown(
        "The last layer gives each pixel one score per class; the **softmax** turns them into "
        "probabilities that add up to 1. The **uncertainty** of a pixel is the entropy of "
        "its probabilities: 0 bits when the network is sure, 1 bit for a coin toss.")
    border_of = own if objects is None else objects
    if border_of.all() or not border_of.any():
        st.info("Here everything is one class, so there is no border to look at: choose "
                "another image at the top.")
        return
    if objects is None:
        st.caption("No ground truth: the borders below are the network's own.")
    ent = unet.entropy(run.probabilities)
    place = unet.least_sure(unet.uncertainty_at_borders(ent, border_of, 2))
    if not lesson.predict_choice(
            "unet.borders", "Where will the network be least sure of its answer?",
            list(unet.PLACES.values()), unet.PLACES[place], context=key,
            explain=f"{unet.PLACES[place]}, measured below."):
        st.caption("Commit to an answer and press Reveal to see the uncertainty.")
        return
    band = persistent(st.slider, "Border band (pixels from the border)", key="learn.unet.band",
                      default=2, min_value=1, max_value=10)
    stats = unet.uncertainty_at_borders(ent, border_of, band)
    r, c = np.unravel_index(int(np.argmax(ent)), ent.shape)
    p = run.probabilities[r, c]
    st.latex(r"H = -\sum_k p_k \log_2 p_k = -(" + " + ".join(
        f"{v:.3f}\\log_2 {v:.3f}" for v in p) + rf") = {ent[r, c]:.3f}\ \text{{bits}}")
    st.caption(f"At the least sure pixel (row {r}, column {c}).")
    st.latex(rf"\bar H_\text{{band}} = {stats['border']:.3f},\quad \bar H_\text{{inside}} = "
             rf"{stats['inside']:.3f},\quad \bar H_\text{{background}} = {stats['outside']:.3f}")
    cols = st.columns(3)
    with cols[0]:
        show(unet.border_picture(answer, border_of), f"Probability of “{unet.OBJECT_CLASS[model]}”"
             " (yellow 1, dark blue 0); the border in white", side=420)
    with cols[1]:
        show(unet.heat_picture(ent, scale=1.0), "Uncertainty (yellow 1 bit, dark blue 0)",
             side=420)
    with cols[2]:
        st.plotly_chart(unet.distance_figure(unet.uncertainty_by_distance(ent, border_of),
                                             band=band), key="learn.unet.distance")
    lesson.notice(
        f"Within {band} pixel{'s' if band > 1 else ''} of the border lie "
        f"{100 * stats['pixel_share']:.0f}% of the pixels but "
        f"{100 * stats['uncertainty_share']:.0f}% of the uncertainty: a mean of "
        f"{stats['border']:.3f} bits there against {stats['elsewhere']:.3f} elsewhere. Where "
        "one class ends and the next begins is the hardest call.")


# --------------------------------------------------------------------------- 5


def wrong_model_section():
    st.header("5. A model on a picture it was not made for", divider="gray")
    other = next(m for m in BUILTIN_MODELS if m != made_for)
    st.markdown(
        f"A network knows only the kind of picture it was trained on. The {made_for} model "
        f"was made for this kind of image; the {other} model was trained on "
        f"{unet.MADE_FOR[other]}. Both run here as the Segment page runs them.")
    probs = {m: predict_of(img.key, m, img.image) for m in BUILTIN_MODELS}
    sure = unet.sure_share(probs[other])
    if not lesson.predict_number(
            "unet.wrong", f"On what share of this image's pixels will the {other} model be "
            "**sure** of its answer (probability above 0.9)?", low=0, high=100,
            answer=round(100 * sure), tolerance=15, context=f"{img.key}:{other}",
            label="Your guess (% of the pixels)",
            explain=f"It is sure of {100 * sure:.0f}% of them."):
        st.caption("Commit to a guess and press Reveal to see both models.")
        return
    here = None if truth is None else learn.objects(truth)
    masks = {m: unet.object_mask(probs[m], unet.load_model(m)[1], m) for m in BUILTIN_MODELS}
    for column, m in zip(st.columns(2), (made_for, other)):
        score = "" if here is None else f": IoU {unet.iou(masks[m], here):.3f}"
        with column:
            show(unet.outcome_picture(img.image, masks[m], here),
                 f"The {m} model's “{unet.OBJECT_CLASS[m]}”{score}", side=480)
            show(unet.heat_picture(unet.entropy(probs[m]), scale=1.0), "Its uncertainty "
                 f"(yellow 1 bit): sure of {100 * unet.sure_share(probs[m]):.0f}% of the pixels",
                 side=480)
    said = ""
    if here is not None:
        st.markdown(viz.error_legend(), unsafe_allow_html=True)
        found, wrong = unet.object_shares(masks[other], here)
        said = (f" Yet it calls {100 * found:.0f}% of the true objects and {100 * wrong:.0f}% "
                f"of the background “{unet.OBJECT_CLASS[other]}” (IoU "
                f"{unet.iou(masks[other], here):.3f}).")
    lesson.notice(
        f"The {other} model is sure of {100 * sure:.0f}% of the pixels.{said} A softmax says how "
        "sure the network is, not whether it is right: on a picture unlike any it was trained "
        "on it answers with the patterns it knows, and can be sure and wrong.")


features_section()
field_section()
skips_section()
uncertainty_section()
wrong_model_section()
