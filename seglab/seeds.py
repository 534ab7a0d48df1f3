"""Seeds: the points a user clicks for methods that grow regions from them,
kept per image in full-image coordinates."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from segcore import viz
from segcore.io import scale_index
from segcore.registry import MethodSpec, scale_seeds

from seglab.state import CurrentImage, persistent

#: Highest seed label offered.
SEED_LABELS = 6


def seeds_of(cur: CurrentImage) -> list[tuple[int, int, int]]:
    """The user's seeds on this image, in full-image coordinates."""
    return st.session_state.setdefault("seeds", {}).setdefault(cur.key, [])


def _add(cur_key: str, row: int, col: int) -> None:
    label = int(st.session_state.get("seed_label", 1))
    st.session_state.setdefault("seeds", {}).setdefault(cur_key, []).append((row, col, label))


def _seed_clicked(chart_key: str, cur_key: str, display_shape, full_shape) -> None:
    pixel = _clicked_pixel(chart_key, display_shape, full_shape)
    if pixel is None:
        return
    _add(cur_key, *pixel)
    # A fresh chart key empties the selection, so the same spot can be clicked again.
    st.session_state["seed_chart"] = st.session_state.get("seed_chart", 0) + 1


def _undo_seed(cur_key: str) -> None:
    seeds = st.session_state.setdefault("seeds", {}).setdefault(cur_key, [])
    if seeds:
        seeds.pop()


def _clear_seeds(cur_key: str) -> None:
    st.session_state.setdefault("seeds", {})[cur_key] = []


def _add_typed_seed(cur_key: str) -> None:
    _add(cur_key, int(st.session_state[f"seed_row.{cur_key}"]),
         int(st.session_state[f"seed_col.{cur_key}"]))


def seed_controls(cur: CurrentImage, spec: MethodSpec) -> tuple[list, bool]:
    """The seed label picker, undo, clear and typed entry; returns the seeds and
    whether the picture takes clicks."""
    seeds = seeds_of(cur)
    if spec.seeds == "required":
        st.markdown(f"**Seeds** — {spec.label} needs at least one seed. Click on the picture "
                    "to place a seed of the label chosen here.")
        clicking = True
    else:
        st.markdown(f"**Seeds** — {spec.label} can use seeds; without them it finds its own.")
        # A clickable picture is a plotly chart with a grid of click targets: it costs
        # a second or two on every rerun, so it is there only while it is wanted.
        clicking = persistent(st.toggle, "Place seeds by clicking on the picture",
                              key="seed_clicking", default=bool(seeds))
    palette = viz.label_palette(SEED_LABELS)
    persistent(st.segmented_control, "Label of the next seed", key="seed_label", default=1,
               valid=lambda v: v in range(1, SEED_LABELS + 1),
               options=list(range(1, SEED_LABELS + 1)), required=True,
               help="Seeds of the same label grow into the same region; the colours below "
                    "are the labels' colours on the picture.")
    swatches = " ".join(
        f"<span style='color:{viz.hex_colour(palette[i])};font-size:1.2em'>&#9632;</span>"
        f"&nbsp;{i}" for i in range(1, SEED_LABELS + 1))
    st.markdown(swatches, unsafe_allow_html=True)
    counts = {}
    for _, _, lab in seeds:
        counts[lab] = counts.get(lab, 0) + 1
    summary = ", ".join(f"label {k}: {v}" for k, v in sorted(counts.items())) or "none yet"
    st.caption(f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({summary})")
    c1, c2 = st.columns(2)
    c1.button("Undo", on_click=_undo_seed, args=(cur.key,), disabled=not seeds,
              key="seed_undo", width="stretch", icon=":material/undo:")
    c2.button("Clear seeds", on_click=_clear_seeds, args=(cur.key,), disabled=not seeds,
              key="seed_clear", width="stretch", icon=":material/delete:")
    with st.expander("Add a seed by typing its position"):
        h, w = cur.shape
        a, b = st.columns(2)
        a.number_input("row", min_value=0, max_value=h - 1, value=h // 2,
                       key=f"seed_row.{cur.key}")
        b.number_input("column", min_value=0, max_value=w - 1, value=w // 4,
                       key=f"seed_col.{cur.key}")
        st.button("Add seed", on_click=_add_typed_seed, args=(cur.key,), key="seed_add")
        st.caption(f"Rows 0–{h - 1} from the top, columns 0–{w - 1} from the left, in the "
                   "full image.")
    return list(seeds), clicking


def _click_figure(picture: np.ndarray, shape: tuple[int, int], hover: str):
    """``picture`` as a plotly image that reports clicks (its hover text in the
    coordinates of an image of ``shape``), and the size it is shown at."""
    shown = viz.display_rgb(picture)
    dh, dw = shown.shape[:2]
    buf = io.BytesIO()
    Image.fromarray(shown).save(buf, format="JPEG", quality=90)
    source = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()
    fig = go.Figure()
    fig.add_trace(go.Image(source=source, hoverinfo="skip"))
    # Clicks land on the nearest point of an invisible grid: plotly reports clicks
    # on scatter points, not on image pixels.
    step = max(1, math.ceil(max(dh, dw) / 160))
    gy, gx = np.mgrid[step // 2:dh:step, step // 2:dw:step]
    fh, fw = shape
    fig.add_trace(go.Scatter(
        x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False,
        marker=dict(size=step * 2 + 2, opacity=0),
        customdata=np.stack([scale_index(gy.ravel(), dh, fh), scale_index(gx.ravel(), dw, fw)], 1),
        hovertemplate=hover + "<br>row %{customdata[0]}, column %{customdata[1]}<extra></extra>"))
    # About the width the result column gets on a laptop screen, so little is left blank.
    height = int(min(720, max(240, 660 * dh / dw)))
    fig.update_layout(dragmode=False, margin=dict(l=0, r=0, t=0, b=0), height=height,
                      hovermode="closest", plot_bgcolor="rgba(0,0,0,0)")
    fig.update_xaxes(visible=False, range=[-0.5, dw - 0.5])
    fig.update_yaxes(visible=False, range=[dh - 0.5, -0.5], scaleanchor="x")
    return fig, (dh, dw)


def _clicked_pixel(chart_key: str, display_shape, shape) -> tuple[int, int] | None:
    """The ``(row, col)`` last clicked on a chart of a picture shown at
    ``display_shape``, in the coordinates of an image of ``shape``; None if none."""
    state = st.session_state.get(chart_key)
    points = (state or {}).get("selection", {}).get("points", []) if state else []
    if not points:
        return None
    point = points[-1]
    r, c = scale_seeds([(point["y"], point["x"], 1)], display_shape, shape)[0][:2]
    return int(r), int(c)


def clickable_picture(cur: CurrentImage, picture: np.ndarray, seeds, *,
                      key: str = "seedpic") -> None:
    """Show ``picture`` (any size, float RGB) as a plotly image that adds a seed where
    it is clicked, with the seeds drawn on it."""
    fig, (dh, dw) = _click_figure(picture, cur.shape, "click to add a seed")
    if seeds:
        disp = scale_seeds(seeds, cur.shape, (dh, dw))
        palette = viz.label_palette(max(lab for *_, lab in seeds))
        fig.add_trace(go.Scatter(
            x=[c for _, c, _ in disp], y=[r for r, _, _ in disp], mode="markers+text",
            text=[str(lab) for *_, lab in disp], textposition="top center",
            textfont=dict(color="white", size=13),
            marker=dict(size=13, color=[viz.hex_colour(palette[lab]) for *_, lab in disp],
                        line=dict(color="white", width=2), symbol="circle"),
            hoverinfo="skip", showlegend=False))
    chart_key = f"{key}.{st.session_state.get('seed_chart', 0)}"
    st.plotly_chart(fig, key=chart_key, on_select=lambda: _seed_clicked(
        chart_key, cur.key, (dh, dw), cur.shape), selection_mode="points",
        config={"displayModeBar": False, "scrollZoom": False}, width="stretch")


def pixel_picker(picture: np.ndarray, *, key: str, on_pick, hover: str = "click here") -> None:
    """Show ``picture`` (float RGB) so that a click calls ``on_pick(row, col)`` with
    the clicked pixel of ``picture`` (a lesson's seed, say), before the rerun."""
    fig, display_shape = _click_figure(picture, picture.shape[:2], hover)
    counter = f"{key}.clicks"
    chart_key = f"{key}.{st.session_state.get(counter, 0)}"

    def picked() -> None:
        pixel = _clicked_pixel(chart_key, display_shape, picture.shape[:2])
        if pixel is not None:
            on_pick(*pixel)
            # A fresh chart key empties the selection, so the same spot can be picked again.
            st.session_state[counter] = st.session_state.get(counter, 0) + 1

    st.plotly_chart(fig, key=chart_key, on_select=picked, selection_mode="points",
                    config={"displayModeBar": False, "scrollZoom": False}, width="stretch")


def show_picture(cur: CurrentImage, picture: np.ndarray, seeds, *, clickable: bool,
                 caption: str = "") -> None:
    """A result picture: clickable for seeds where the method takes them."""
    if clickable:
        clickable_picture(cur, picture, seeds)
        if caption:
            st.caption(caption)
    else:
        st.image(viz.display_rgb(picture), width="stretch", caption=caption or None)
