"""Lesson: CNNs for segmentation (convolution against a fully connected layer, encoder
and decoder, upsampling a real feature map of the shipped U-Net, the checkerboard, and
dilated convolution with its receptive field)."""

import numpy as np
import streamlit as st

from segcore import io as sio
from segcore import viz
from segcore.learn import cnn
from segcore.methods.unet import chosen_model
from segcore.nn.infer import load_model
from seglab import lesson
from seglab.state import persistent

NAMES = {"nearest": "Nearest neighbour", "bilinear": "Bilinear",
         "max-unpooling": "Max-unpooling", "transposed": "Transposed conv. (3 × 3, stride 2)"}
SCHEDULE_NAMES = {"plain": "1, 1, 1, … (plain)", "rate 2": "2, 2, 2, …",
                  "doubling": "1, 2, 4, … (doubling)"}
PATTERNS = ["Flat: every pixel gets the same value", "Stripes: every other row is brighter",
            "A grid: every other row and every other column is brighter",
            "A smooth bump, brightest in the middle"]


@st.cache_resource(show_spinner="Loading the U-Net…")
def model(name: str):
    return load_model(name)  # the loader the U-Net method uses; here kept once per server


@st.cache_resource(max_entries=4, show_spinner="Running the U-Net on the image…")
def features_of(key: str, name: str, _image: np.ndarray) -> cnn.Features:
    return cnn.unet_features(_image, *model(name), model=name)


def tex(n) -> str:
    """A count for LaTeX, with thousands separated."""
    return f"{n:,}".replace(",", "{,}")


def show(picture: np.ndarray, caption: str, *, side: int = 420) -> None:
    st.image(viz.display_rgb(picture, side=side), caption=caption, width="stretch")


def parameters(img) -> None:
    st.header("1. Convolution against a fully connected layer", divider="gray")
    h, w, c = img.image.shape
    st.markdown(
        "A **fully connected** layer gives every output value its own weight for every input "
        "value. A **convolution** slides one small table of weights, the **kernel**, over the "
        "image: the same few weights at every position, one kernel per pair of input and "
        "output channels.")
    dense16 = cnn.dense_parameters(h, w, c, 16)
    if not lesson.predict_number(
            "cnn.dense", f"A fully connected layer takes this {w} × {h} image ({c} "
            f"channel{'s' if c > 1 else ''}) to 16 values per pixel, as the U-Net's first "
            "layer does. How many **digits** has its number of weights? (1,000 has 4.)",
            low=1, high=16, answer=len(str(dense16)), tolerance=1, context=img.key,
            label="Digits", explain=f"It needs {dense16:,} weights: {len(str(dense16))} digits. "
                                    "A 3 × 3 convolution doing the same job needs "
                                    f"{cnn.conv_parameters(c, 16, 3):,}."):
        st.caption("Commit to a guess and press Reveal to see the counts.")
        return
    cols = st.columns(2)
    out = persistent(cols[0].slider, "Output channels", key="cnn.out_channels", default=16,
                     min_value=1, max_value=128, help="How many maps the layer makes.")
    k = persistent(cols[1].select_slider, "Kernel size", key="cnn.kernel", default=3,
                   options=[1, 3, 5, 7, 9], valid=lambda v: v in (1, 3, 5, 7, 9),
                   format_func=lambda v: f"{v} × {v}")
    conv, dense = cnn.conv_parameters(c, out, k), cnn.dense_parameters(h, w, c, out)
    st.latex(rf"\text{{conv: }} C_{{out}}\,(C_{{in}}\,k^2 + 1) = {out}\,({c}\cdot{k}^2 + 1) = "
             rf"{tex(conv)}")
    st.latex(rf"\text{{fully connected: }} (HWC_{{in}})(HWC_{{out}}) + HWC_{{out}} = "
             rf"{tex(h * w * c)}\cdot{tex(h * w * out)} + {tex(h * w * out)} = {tex(dense)}")
    checked = cnn.torch_parameters(h, w, c, out, k)
    st.caption(f"Checked with torch: `nn.Conv2d({c}, {out}, {k})` has {checked['conv']:,} "
               f"parameters and `nn.Linear({h * w * c:,}, {h * w * out:,})` "
               f"has {checked['dense']:,} (built on torch's *meta* device, which stores nothing).")
    lesson.notice(
        f"The fully connected layer needs {dense / conv:,.0f} times as many weights "
        f"({cnn.memory_text(dense)} against {cnn.memory_text(conv)}), and it only takes images "
        f"of exactly {w} × {h}. The convolution's {conv:,} weights do not depend on the image "
        "size at all: it runs on any image and finds a pattern wherever it appears.")


def encoder_decoder(img, feats: cnn.Features) -> None:
    st.header("2. Encoder and decoder", divider="gray")
    h, w = feats.input_shape
    st.markdown(
        "A segmentation network has to answer for every pixel, yet it needs to see far. Its "
        "**encoder** convolves and then **max-pools**: each 2 × 2 block becomes its largest "
        "value, so every level has half the height and width, and more channels. The "
        "**decoder** has to undo that: it doubles the size level by level until every pixel "
        f"has an answer again. The shipped **{feats.model}** U-Net pools {feats.depth} times; "
        f"it takes this image at {w} × {h}"
        + (" (its working scale)." if (h, w) != img.image.shape[:2] else "."))
    side, name = (h, "height") if h >= 16 else (w, "width")
    sizes = cnn.pooled_sizes(side, feats.depth)
    if not lesson.predict_number(
            "cnn.bottleneck", f"The {name} is {side} pixels. After {feats.depth} poolings of "
            "2 × 2 (each rounds down), what is it at the bottom of the network?", low=0,
            high=side // 2, answer=sizes[-1], tolerance=0, context=img.key,
            label=f"{name.title()} at the bottom",
            explain=f"{' → '.join(map(str, sizes))}: each pooling halves and rounds down."):
        st.caption("Commit to a guess and press Reveal to see the network's feature maps.")
        return
    back = [sizes[-1] * 2**i for i in range(feats.depth + 1)]
    padded = feats.padded_shape[0] if name == "height" else feats.padded_shape[1]
    arrow = r" \to "
    st.latex(rf"\text{{pool: }} n_{{l+1}} = \lfloor n_l / 2 \rfloor:\ {arrow.join(map(str, sizes))}"
             rf"\qquad \text{{decoder: }} n \times 2:\ {arrow.join(map(str, back))}")
    st.markdown(
        (f"The decoder comes back to {back[-1]}, not {side}: " if back[-1] != side else
         f"Here the size comes back, because it is a multiple of {2**feats.depth}. ") +
        f"SegLab pads the input to {padded} (a multiple of 2^{feats.depth} = {2**feats.depth}) "
        "before the network and "
        "cuts the answer back. Below: the most varied channel of every level for this image "
        "(yellow: strong, dark: zero).")
    columns = st.columns(feats.depth + 1)
    for level, (column, maps) in enumerate(zip(columns, feats.encoder)):
        with column:
            show(cnn.feature_picture(maps[cnn.most_varied_channel(maps)]),
                 f"Encoder level {level}: {maps.shape[2]} × {maps.shape[1]}, {len(maps)} "
                 "channels", side=300)
    columns = st.columns(feats.depth + 1)
    for level, (column, maps) in enumerate(zip(columns, feats.decoder)):
        with column:
            show(cnn.feature_picture(maps[cnn.most_varied_channel(maps)]),
                 f"Decoder step {level + 1}: {maps.shape[2]} × {maps.shape[1]}, {len(maps)} "
                 "channels", side=300)
    labels = feats.probabilities.argmax(axis=2).astype(np.int32) + 1
    with columns[-1]:
        show(viz.overlay(img.image, sio.resize_labels(labels, img.image.shape[:2]), alpha=0.5),
             "The answer: " + " / ".join(feats.classes), side=300)
    top, bottom = feats.encoder[0], feats.encoder[-1]
    lesson.notice(
        f"Level 0 holds {top.shape[0]} × {top.shape[1]} × {top.shape[2]} = {top.size:,} numbers, "
        f"the bottom {bottom.shape[0]} × {bottom.shape[1]} × {bottom.shape[2]} = "
        f"{bottom.size:,}: the encoder trades *where* for *what*. Each bottom pixel stands for "
        f"a {2**feats.depth} × {2**feats.depth} block of the input, so the decoder has to bring "
        "the *where* back.")


def upsampling(img, feats: cnn.Features):
    st.header("3. Upsampling, on a real feature map", divider="gray")
    st.markdown(
        "How can the decoder double a map? Take one of the U-Net's maps for this image, "
        "max-pool it as the encoder does, and bring it back four ways: **nearest neighbour** "
        "copies each value into a 2 × 2 block; **bilinear** mixes the four nearest values; "
        "**max-unpooling** puts each maximum back where the pooling found it and zeros "
        "elsewhere (SegNet); a **transposed convolution** stamps a kernel for every value, "
        "scaled by it, 2 pixels apart (its weights are learned; here all equal).")
    levels = [n for n in range(feats.depth) if min(feats.encoder[n].shape[1:]) >= 4]
    if not levels:
        st.info("At the network's scale this image is less than 4 pixels high or wide, too thin "
                "to pool and bring back. Work on the photo or the generated image above.")
        return None
    cols = st.columns(2)
    level = persistent(cols[0].select_slider, "Level of the U-Net's encoder", key="cnn.level",
                       default=min(levels, key=lambda n: abs(n - 1)), options=levels,
                       valid=lambda v: v in levels, disabled=len(levels) < 2,
                       format_func=lambda v: f"{v} (1/{2**v} size)" if v else "0 (full size)")
    maps = feats.encoder[level]
    channel = persistent(cols[1].slider, "Channel", key=f"cnn.channel.{img.key}.{level}",
                         default=cnn.most_varied_channel(maps), min_value=0,
                         max_value=len(maps) - 1, valid=lambda v: 0 <= v < len(maps),
                         help="Starts at the channel whose values vary most.")
    trip = cnn.round_trip(maps[channel])
    before, pooled = trip["before"], trip["pooled"]
    top = float(before.max())
    errors = {m: cnn.rms(trip[m], before) for m in cnn.UPSAMPLINGS}
    pictures = st.columns(3)
    with pictures[0]:
        show(cnn.feature_picture(before, vmax=top), f"Before pooling: level {level}, channel "
             f"{channel}, {before.shape[1]} × {before.shape[0]}")
    with pictures[1]:
        show(cnn.feature_picture(pooled, vmax=top), f"Max-pooled: {pooled.shape[1]} × "
             f"{pooled.shape[0]}")
    for n, method in enumerate(cnn.UPSAMPLINGS):
        with pictures[(n + 2) % 3]:
            show(cnn.feature_picture(trip[method], vmax=top),
                 f"{NAMES[method]}: error {errors[method]:.3f}")
    if pooled.shape[0] >= 2 and pooled.shape[1] >= 2:
        i, j = np.unravel_index(np.argmax(pooled[:-1, :-1]), (pooled.shape[0] - 1,
                                                                pooled.shape[1] - 1))
        terms, value = cnn.bilinear_at(pooled, int(i), int(j))
        sums = " + ".join(rf"\tfrac{{{round(wt * 16)}}}{{16}}\cdot{v:.3f}" for wt, v in terms)
        st.latex(rf"\text{{bilinear}}\ y_{{{2 * i + 1},{2 * j + 1}}} = {sums} = {value:.3f}")
    st.caption("Error: the root mean square difference from the map before pooling, in the "
               f"network's own units (the map's largest value is {top:.3f}).")
    best = min(errors, key=errors.get)
    lesson.notice(
        f"{NAMES[best]} comes back closest here (error {errors[best]:.3f}). Max-unpooling puts "
        "every maximum back exactly where it was, but leaves three zeros in every 2 × 2 block; "
        "the equal-weight transposed convolution lays a 2-pixel pattern over the map. No "
        "upsampling can bring back what pooling threw away: the U-Net's skip connections "
        "hand the decoder the encoder's own map instead.")
    return pooled


def checkerboard(pooled: np.ndarray) -> None:
    st.header("4. The checkerboard of a transposed convolution", divider="gray")
    st.markdown(
        "A transposed convolution with stride 2 stamps its kernel every 2 pixels. With a "
        "kernel 3 wide, neighbouring stamps overlap on one pixel in two, and not on the other.")
    if not lesson.predict_choice(
            "cnn.checkerboard", "Stride 2, a 3 × 3 kernel of ones, an input of ones. What does "
            "the output look like away from its borders?", PATTERNS, PATTERNS[2],
            context="k3s2", explain="Along each axis an output pixel gets 2 stamps or 1 in "
                                    "turn, so in two dimensions 2 × 2 = 4, 2 × 1 = 2 or 1 × 1 = "
                                    "1: a grid, in both directions."):
        st.caption("Commit to an answer and press Reveal to see the stamps counted.")
        return
    cols = st.columns([2, 3], gap="large")
    with cols[0]:
        k = persistent(st.slider, "Kernel size k", key="cnn.tkernel", default=3, min_value=1,
                       max_value=6)
        s = persistent(st.slider, "Stride s", key="cnn.stride", default=2, min_value=1,
                       max_value=3)
        few, many = cnn.overlap_per_axis(k, s)
        st.latex(rf"\lfloor k/s \rfloor = \lfloor {k}/{s} \rfloor = {few},\quad "
                 rf"\lceil k/s \rceil = \lceil {k}/{s} \rceil = {many}")
        st.markdown(f"Stamps per pixel: {few * few}" +
                    (f" to {many * many}: **uneven**" if few != many else ": **even**") +
                    f". A {k}-wide kernel at stride {s} overlaps evenly only if {s} divides {k}.")
    with cols[1]:
        st.plotly_chart(cnn.overlap_figure(cnn.overlap_count(k, s)), key="cnn.overlap",
                        config={"displayModeBar": False})
    if pooled is None:
        return
    st.markdown(
        f"On the pooled map of section 3, the same transposed convolution ({k} × {k}, stride "
        "2, to double it) against **resize, then convolve**: nearest-neighbour resize, then an "
        "ordinary 3 × 3 convolution at stride 1, where every output pixel sums exactly 9 "
        "values, so no pixel is favoured.")
    stamped, smooth = cnn.upsample(pooled, "transposed", kernel=k), cnn.resize_then_conv(pooled)
    top = float(max(stamped.max(), smooth.max(), 1e-12))
    left, right = st.columns(2)
    with left:
        show(cnn.feature_picture(stamped, vmax=top), f"Transposed convolution, {k} × {k}, "
             f"stride 2: pattern {cnn.checkerboard(stamped):.2f}")
    with right:
        show(cnn.feature_picture(smooth, vmax=top), "Resize, then 3 × 3 convolution: pattern "
             f"{cnn.checkerboard(smooth):.2f}")
    m = cnn.phase_means(stamped)
    st.latex(rf"\text{{mean over the 4 pixel phases: }} \begin{{bmatrix}}{m[0, 0]:.3f} & "
             rf"{m[0, 1]:.3f}\\ {m[1, 0]:.3f} & {m[1, 1]:.3f}\end{{bmatrix}},\quad "
             rf"\text{{pattern}} = \frac{{\max - \min}}{{\text{{mean}}}} = "
             rf"{cnn.checkerboard(stamped):.2f}")
    few2, many2 = cnn.overlap_per_axis(k, 2)
    lesson.notice(
        (f"With k = {k} at stride 2 the stamps are uneven ({few2 * few2} to {many2 * many2} per "
         "pixel): the map wears a checkerboard that training has to fight, layer after layer."
         if few2 != many2 else
         f"With k = {k} at stride 2 every pixel gets {few2 * few2} stamp(s): no checkerboard "
         "from the overlap. The shipped U-Net uses k = 2, stride 2 for this reason.") +
        " Resizing first and then convolving at stride 1 cannot leave one.")


def dilation(img) -> None:
    st.header("5. Dilated (atrous) convolution", divider="gray")
    st.markdown(
        "Pooling lets a network see far, but costs resolution. **DeepLab** keeps the map "
        "large and spreads the kernel's taps apart instead: a 3 × 3 kernel at **rate** $d$ "
        "reads pixels $d$ apart, so it spans $2d + 1$ pixels with the same 9 weights. The "
        "**receptive field** of an output pixel is the square of input pixels it depends on.")
    if not lesson.predict_number(
            "cnn.field", "Three 3 × 3 convolutions, stacked, at rates 1, 2 and 4. How many "
            "pixels wide is the receptive field of one output pixel?", low=1, high=31,
            step=2, answer=15, tolerance=0, context="rates-1-2-4", label="Width (pixels)",
            explain="Each layer adds (3 − 1) × its rate: 1 + 2 × (1 + 2 + 4) = 15."):
        st.caption("Commit to a guess and press Reveal to draw the field on the image.")
        return
    cols = st.columns(2)
    layers = persistent(cols[0].slider, "Layers", key="cnn.layers", default=3, min_value=1,
                        max_value=6)
    schedule = persistent(cols[1].segmented_control, "Rates", key="cnn.schedule",
                          default="doubling", options=list(cnn.SCHEDULES), required=True,
                          format_func=SCHEDULE_NAMES.get, valid=lambda v: v in cnn.SCHEDULES)
    rates = cnn.dilation_rates(schedule, layers)
    field = cnn.receptive_field([(3, 1, d) for d in rates])
    h, w = img.image.shape[:2]
    row, col = h // 2, w // 2
    grad = cnn.gradient_map(img.image.mean(axis=2), row, col, kernel=3, dilations=rates)
    extent = cnn.field_extent(grad)
    st.latex(rf"r = 1 + (k - 1)\sum_l d_l = 1 + 2\,({' + '.join(map(str, rates))}) = {field}")
    st.caption(f"Checked with torch: the gradient of the centre output pixel with respect to "
               f"the input is non-zero over {extent[1]} × {extent[0]} pixels (`F.conv2d` with "
               "these dilations, weights all 1; the image border may cut the square).")
    left, right = st.columns([3, 2], gap="large")
    with left:
        show(cnn.field_picture(img.image, grad, row, col, margin=max(8, field // 2 + 1)),
             "Orange: input pixels that reach the centre output pixel (white; brighter orange: "
             "by more paths); blue: the square around them. Cropped around it.", side=640)
    with right:
        st.plotly_chart(cnn.dilation_figure(3, rates), key="cnn.diagram",
                        config={"displayModeBar": False})
    pooled_field = cnn.receptive_field([(3, 1, 1), (2, 2, 1)] * (layers - 1) + [(3, 1, 1)])
    shrink = 2 ** (layers - 1)
    st.dataframe({f"{layers} layers of 3 × 3 convolutions": [
                      "plain (rate 1)", f"rates {', '.join(map(str, rates))}",
                      "plain, with a 2 × 2 max-pool between layers"],
                  "receptive field (pixels)": [1 + 2 * layers, field, pooled_field],
                  "map size out": [f"{w} × {h}"] * 2 + [f"{w // shrink} × {h // shrink}"]},
                 hide_index=True, width="content")
    reached = int((grad > 0).sum())
    if reached < extent[0] * extent[1]:
        lesson.notice(
            f"Only {reached:,} of the {extent[0] * extent[1]:,} pixels in the square reach the "
            "output: with rate 2 in every layer each tap lands an even distance away, and the "
            "pixels between are never read (**gridding**). Rates that grow, 1, 2, 4, fill the "
            "square; DeepLab picks its rates so that they do.")
    else:
        lesson.notice(
            f"Every pixel in the {extent[1]} × {extent[0]} square reaches the output, but not "
            f"equally: some by {grad.max():,.0f} paths, a corner by "
            f"{cnn.corner_paths(grad):,.0f}" + (" (try plain rates)." if grad.max() < 10 else
                                                 ": the field that matters is smaller than "
                                                 "the square.") +
            f" DeepLab's trade, in the table: pooling between the layers gives a field "
            f"{pooled_field} pixels wide, but on a map {shrink * shrink} times smaller.")


st.title("CNNs for segmentation")
st.markdown(
    "A convolutional network (CNN) builds its answer from small kernels slid over the image, "
    "layer by layer. For segmentation it must answer at every pixel, which shapes it: an "
    "encoder that shrinks the image to see more of it, and a decoder that brings the size "
    "back. This lesson opens SegLab's own U-Net on your image.")
img = lesson.lesson_image("cnn", photo="chelsea", generated="blobs")
parameters(img)
feats = features_of(img.key, chosen_model("auto", img.image), img.image)
encoder_decoder(img, feats)
pooled = upsampling(img, feats)
checkerboard(pooled)
dilation(img)
