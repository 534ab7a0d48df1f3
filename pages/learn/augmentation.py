"""Lesson: data augmentation (shift, turn, shear, zoom, flips, elastic deformation,
brightness and contrast, applied to an image and its mask together by the code the
U-Net training runs; why it lets a U-Net learn from 25 slices)."""

import numpy as np
import streamlit as st
import torch

from segcore import viz
from segcore.learn import augmentation as aug
from segcore.nn import augment
from seglab import lesson
from seglab.state import persistent

SHIFT = 100
AND_MASK = {True: " and its mask", False: ""}
ZOOMS = [0.5, 0.63, 0.8, 1.0, 1.25, 1.6, 2.0]
CARDS = {"membrane": "membrane (ISBI 2012 electron microscopy)",
         "horse": "horse (Weizmann horses)"}


@st.cache_data(max_entries=2, show_spinner=False)
def card(name: str) -> dict:
    return aug.shipped_card(name)


@st.cache_data(max_entries=4, show_spinner=False)
def upright(name: str, n: int) -> int:
    return aug.upright_share(aug.card_facts(card(name))["recipe"], n=n)


@st.cache_data(max_entries=8, show_spinner=False)
def crops_picture(key: str, name: str, batch: int, _image, _truth) -> np.ndarray:
    recipe = aug.card_facts(card(name))["recipe"]
    crops, truths = aug.training_crops(_image, _truth, recipe, n=12, rng=batch,
                                       max_side=card(name)["input"]["max_side"])
    return aug.montage(crops, truths)


@st.cache_data(max_entries=24, show_spinner=False)
def warped(key: str, params: augment.Augment, size, grid: bool, _image, _truth):
    """The image (with blue lines when ``grid``) and its truth, warped by ``params``."""
    return aug.warp(aug.with_grid(_image) if grid else _image, _truth, params, size=size)


def show(picture: np.ndarray, caption: str, *, side: int = 520) -> None:
    st.image(viz.display_rgb(picture, side=side), caption=caption, width="stretch")


st.title("Data augmentation")
st.markdown(
    "A U-Net learns from examples: an image and its mask, the right answer for every pixel. "
    "Labelling masks is slow, so there are never many. **Augmentation** shows the network "
    "each example again and again, moved, turned, bent and relit, with its mask moved "
    "exactly the same way, so that every copy is a new example with a correct answer.\n\n"
    "Every picture here is made by `segcore.nn.augment`, the code the U-Net training runs.")
img = lesson.lesson_image("augmentation", photo="horse", generated="shapes")
h, w = img.image.shape[:2]
truth = img.truth
has_mask = truth is not None
if truth is None:
    st.info("Your image has no ground truth, so there is no mask to move with it: the "
            "pictures show the image alone. Add a mask on the Image page, or choose the "
            "generated image above to see a mask follow its image.",
            icon=":material/layers_clear:")

# --------------------------------------------------------------------------- 1
st.header("1. Where does a pixel go?", divider="gray")
turn = augment.Augment(angle=90, flip_h=True)
dot = aug.farthest_object_pixel(truth, (h, w))
size = (w, h)  # a quarter turn stands the picture on its side
lands = aug.where_it_goes(turn, (h, w), dot, size=size)
answer = aug.quadrant(lands, size)
ask, picture = st.columns([2, 3], gap="large")
with ask:
    revealed = lesson.predict_choice(
        "augmentation.where",
        f"The red dot sits in the **{aug.quadrant(dot, (h, w))}** quarter of the picture. Turn "
        "the picture a quarter turn to the left (90° counter-clockwise), then mirror it left "
        "to right. In which quarter is the dot now?",
        list(aug.QUADRANTS.values()), answer, context=img.key,
        explain=f"The turn takes the {aug.quadrant(dot, (h, w))} quarter to the "
                f"{aug.quadrant(aug.where_it_goes(augment.Augment(angle=90), (h, w), dot, size=size), size)}; "
                f"the mirror swaps left and right: **{answer}**. Row {dot[0]}, column {dot[1]} "
                f"lands on row {lands[0]:.0f}, column {lands[1]:.0f}.")
    if revealed:
        st.latex(aug.matrix_latex(turn, (h, w), size=size)[0])
        lesson.notice("This matrix holds only 0 and ±1: each pixel of the result shows one "
                      "pixel of the original exactly, none blended with its neighbours. Any "
                      "other angle lands between pixels and has to blend.")
with picture:
    left, right = st.columns(2)
    with left:
        show(aug.mask_picture(img.image, truth, dot=dot),
             "The picture" + (", its mask drawn over it" if has_mask else ""))
    with right:
        if revealed:
            moved, moved_truth = warped(img.key, turn, size, False, img.image, truth)
            show(aug.mask_picture(moved, moved_truth, dot=np.round(lands).astype(int)),
                 "Turned left, then mirrored" + (": the mask went along" if has_mask else ""))
        else:
            st.caption("Answer first; then the turned picture appears here.")

# --------------------------------------------------------------------------- 2
st.header("2. Shift, turn, shear, zoom, flip", divider="gray")
st.markdown(
    "Warping works **backwards**: for every pixel $(x, y)$ of the result, the matrix $M$ "
    "says which point $(x_s, y_s)$ of the original it shows, and the pixel takes the blend "
    "of the four original pixels around that point. The mask is read at the very same "
    "points, so it cannot slip off the object. Where the result reaches past the original's "
    "edges, training reads the original mirrored, so no black corners teach the network "
    "something false.")
controls, pictures = st.columns([1, 2], gap="large")
with controls:
    # One range for every image: a slider whose range changes with the image would
    # start over at its low end.
    dx = persistent(st.slider, "Shift right (pixels)", key="augmentation.shift_x", default=0,
                    min_value=-SHIFT, max_value=SHIFT)
    dy = persistent(st.slider, "Shift down (pixels)", key="augmentation.shift_y", default=0,
                    min_value=-SHIFT, max_value=SHIFT)
    angle = persistent(st.slider, "Turn left (degrees)", key="augmentation.angle", default=30,
                       min_value=-180, max_value=180, step=5)
    shear = persistent(st.slider, "Shear (degrees)", key="augmentation.shear", default=0,
                       min_value=-40, max_value=40, step=5,
                       help="Rows below the centre slide left, rows above slide right.")
    zoom = persistent(st.select_slider, "Zoom", key="augmentation.zoom", default=1.0,
                      options=ZOOMS, valid=ZOOMS.__contains__,
                      help="Above 1 the content gets bigger; the matrix's scale s is 1/zoom.")
    flip_h = persistent(st.toggle, "Mirror left-right", key="augmentation.flip_h", default=False)
    flip_v = persistent(st.toggle, "Mirror top-bottom", key="augmentation.flip_v", default=False)
params = augment.Augment(shift=(dy, dx), angle=angle, shear=shear, scale=1 / zoom,
                         flip_h=flip_h, flip_v=flip_v)
moved, moved_truth = warped(img.key, params, None, False, img.image, truth)
with pictures:
    left, right = st.columns(2)
    with left:
        show(aug.mask_picture(img.image, truth), "The original" + AND_MASK[has_mask])
    with right:
        show(aug.mask_picture(moved, moved_truth),
             "The result: image and mask, one grid" if has_mask else "The result")
for line in aug.matrix_latex(params, (h, w)):
    st.latex(line)
det = abs(float(np.linalg.det(augment.matrix(params, (h, w))[:, :2])))
if truth is None:
    lesson.notice(f"|det A| = {det:.2f}: one pixel of the result covers {det:.2f} pixels of "
                  "the original, so areas in the picture grow by 1/|det A| = "
                  f"{1 / det:.2f}. Neither turning, nor mirroring, nor shearing changes it; "
                  "only the zoom does.")
else:
    before, after = aug.object_share(truth), aug.object_share(moved_truth)
    lesson.notice(f"The objects cover {100 * after:.1f}% of the result, against "
                  f"{100 * before:.1f}% of the original. |det A| = {det:.2f}: areas grow by "
                  f"1/|det A| = {1 / det:.2f} where nothing runs off the edge (mirrored "
                  "copies can come in from beyond it). Turning, mirroring and shearing leave "
                  "|det A| at 1; only the zoom changes it.")

# --------------------------------------------------------------------------- 3
st.header("3. Elastic deformation", divider="gray")
st.markdown(
    "Tissue, horses and handwriting bend. The U-Net paper's answer: push the points of a "
    "coarse 3 × 3 grid by random offsets $D_{ij}$ and let every pixel move by a smooth "
    "(bicubic) blend $w_{ij}$ of them. The blue lines show how straight lines bend.")
controls, pictures = st.columns([1, 2], gap="large")
with controls:
    std = persistent(st.slider, "Strength: spread of the offsets (pixels)",
                     key="augmentation.elastic", default=4, min_value=0, max_value=16,
                     help="The standard deviation of the 3 × 3 random offsets; the shipped "
                          "models trained with 4.")
    draw_no = persistent(st.slider, "Random draw", key="augmentation.draw", default=1,
                         min_value=1, max_value=20, help="Another set of random offsets.")
offsets = augment.elastic_offsets(std, torch.Generator().manual_seed(draw_no))
bent = augment.Augment(elastic=offsets)
bent_image, bent_truth = warped(img.key, bent, None, True, img.image, truth)
with pictures:
    left, right = st.columns(2)
    with left:
        show(aug.mask_picture(aug.with_grid(img.image), truth), "Straight lines")
    with right:
        show(aug.mask_picture(bent_image, bent_truth),
             "Bent" + (": the mask bends with the image" if has_mask else ""))
grid_x, grid_y = (r"\begin{pmatrix}" + r"\\ ".join(" & ".join(f"{v:.1f}" for v in row)
                                                   for row in part) + r"\end{pmatrix}"
                  for part in offsets)
st.latex(rf"d(p) = \sum_{{i,j}} w_{{ij}}(p)\,D_{{ij}},\qquad D_x = {grid_x},\quad D_y = {grid_y}")
largest = float(np.hypot(*np.asarray(offsets)).max())
moves = float(augment.displacement(bent, (h, w)).norm(dim=0).max())
lesson.notice(f"The longest offset on the coarse grid is {largest:.1f} px, and no pixel moves "
              f"farther than {moves:.1f} px. A few pixels on a {w} × {h} picture: the shape "
              "stays recognisable, yet no two draws give the same outline.")

# --------------------------------------------------------------------------- 4
st.header("4. Brightness and contrast", divider="gray")
st.markdown("Microscopes and cameras never light two images alike. Training changes each "
            "crop's contrast $c$ around its mean $\\mu$ and adds a brightness $b$:")
controls, pictures = st.columns([1, 2], gap="large")
with controls:
    bright = persistent(st.slider, "Brightness b", key="augmentation.brightness", default=-0.1,
                        min_value=-0.4, max_value=0.4, step=0.05)
    contrast = persistent(st.slider, "Contrast c", key="augmentation.contrast", default=0.8,
                          min_value=0.25, max_value=2.5, step=0.05)
lit = augment.Augment(brightness=bright, contrast=contrast)
lit_image, lit_truth = warped(img.key, lit, None, False, img.image, truth)
numbers = aug.photometric_numbers(img.image, lit, relit=lit_image)
st.latex(rf"v' = \operatorname{{clip}}_{{[0,1]}}\big((v - \mu)\,c + \mu + b\big) = "
         rf"\operatorname{{clip}}\big((v - {numbers['mean']:.3f})\cdot{contrast:.2f} + "
         rf"{numbers['mean']:.3f} {'+' if bright >= 0 else '-'} {abs(bright):.2f}\big)")
seen = True
if truth is not None:
    changed = int((lit_truth != truth).sum())
    with controls:
        seen = lesson.predict_choice(
            "augmentation.mask", "These change every pixel of the image. What do they do "
            "to the mask?", ["Nothing: the mask stays as it is", "It grows with the "
                             "brightness", "It shrinks where the image is clipped"],
            "Nothing: the mask stays as it is", context=img.key,
            explain=f"With b = {bright:.2f} and c = {contrast:.2f}, {changed} of the mask's "
                    f"{truth.size:,} pixels changed. The mask says what each pixel *is*; "
                    "the light does not change that, so the network learns to ignore it.")
with pictures:
    left, right = st.columns(2)
    with left:
        show(aug.mask_picture(img.image, truth if seen else None), "The original")
    with right:
        show(aug.mask_picture(lit_image, lit_truth if seen else None),
             "Relit" + (", with its mask" if seen and truth is not None else ""))
trained = aug.card_facts(card("membrane"))["recipe"]
limits = (f"c within {trained.contrast[0]:g}–{trained.contrast[1]:g} and b within "
          f"±{trained.brightness:g}")
changed_text = (f"{100 * numbers['changed']:.0f}% of the pixels changed and the mean moved "
                f"from {numbers['mean']:.3f} to {numbers['mean_after']:.3f}")
if numbers["clipped"] >= 0.001:
    lesson.notice(f"{changed_text}; {100 * numbers['clipped']:.1f}% of the values fell outside "
                  f"0–1 and were clipped, their detail lost. That is why training keeps "
                  f"{limits}: new light, nothing lost.")
else:
    lesson.notice(f"{changed_text}, and no value fell outside 0–1: new light, nothing lost, "
                  f"as in training ({limits}). Push c towards 2.5 and values start to clip.")

# --------------------------------------------------------------------------- 5
st.header("5. Why 25 slices are enough", divider="gray")
facts = aug.card_facts(card("membrane"))
split = card("membrane")["training"]["split"]
total = facts["train"] + facts["val"] + aug.count_slices(split["report (held out)"])
st.markdown(
    f"The ISBI 2012 challenge gives {total} labelled electron-microscope slices of nerve "
    f"tissue. The shipped membrane "
    f"model learned from {facts['train']} of them ({split['train']}), chose its best epoch "
    f"on {facts['val']} more ({split['val (model selection)']}) and keeps "
    f"{split['report (held out)']} for its report: {facts['train'] + facts['val']} slices "
    f"made it. Its card says it trained for {facts['iterations']:,} steps of {facts['batch']} "
    f"crops of {facts['recipe'].size} × {facts['recipe'].size} pixels: "
    f"**{facts['crops']:,} crops**, about {facts['per_image']:,.0f} from each training slice, "
    "every one moved, turned, bent and relit differently.")
n_draws = 2000
if lesson.predict_number(
        "augmentation.upright", f"Each crop turns by a random quarter turn and is mirrored "
        f"half the time. Of the {facts['crops']:,} crops, about how many showed their "
        "slice the right way round (no quarter turn, not mirrored)?",
        low=0, high=facts["crops"], step=500, answer=facts["crops"] / 8,
        tolerance=facts["crops"] / 32, context="membrane", label="Your guess (crops)",
        explain=f"Four turns times two mirrorings make 8 orientations, each drawn as often: "
                f"about {facts['crops'] / 8:,.0f}. Drawn again here, {upright('membrane', n_draws)} "
                f"of {n_draws:,} crops came out the right way round. The network sees each "
                "membrane in every direction, so it learns what a membrane looks like, not "
                "which way it runs."):
    name = persistent(st.radio, "Training recipe", key="augmentation.recipe",
                      default="membrane", options=list(CARDS), format_func=CARDS.get,
                      horizontal=True, valid=CARDS.__contains__,
                      help="Each shipped model card records the augmentation it trained with.")
    batch = persistent(st.slider, "Batch", key="augmentation.batch", default=1, min_value=1,
                       max_value=50, help="Another random batch.")
    recipe = aug.card_facts(card(name))["recipe"]
    show(crops_picture(img.key, name, batch, img.image, truth),
         f"12 crops of this image, drawn as the {name} training draws them", side=900)
    st.caption(f"From the {name} card: {recipe.describe()}; crops of {recipe.size} px"
               + (f", from images resized to {card(name)['input']['max_side']} px"
                  if card(name)["input"]["max_side"] else "") + ".")
    lesson.notice("One image, twelve different examples"
                  + (", each with its own correct mask. " if has_mask else ". ")
                  + f"Over a run the network sees {facts['crops']:,} of them and never the "
                  f"same one twice, so it cannot memorise where things are in "
                  f"{facts['train']} slices: it has to learn what they look like.")
