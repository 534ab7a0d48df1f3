"""The Try all page's glue: run a sweep once per choice of settings (kept in the
session, so moving around the page does not run it again), and adopt a tile's
settings on the Segment page."""

from __future__ import annotations

import streamlit as st

from segcore import sweep
from segcore.registry import MethodSpec

from seglab import cache
from seglab.state import CurrentImage, keep, kept


def segment_settings(spec: MethodSpec) -> dict:
    """The method's settings as the Segment page has them now (its defaults until
    the user changes them there)."""
    return {p.name: kept(f"segment.{spec.name}.{p.name}", p.default) for p in spec.params
            if p.file is None}


def run(cur: CurrentImage, spec: MethodSpec, grid: sweep.Grid, params: dict,
        seeds: list) -> tuple[sweep.Sweep, list[sweep.Mark]]:
    """The sweep (and where the automatic choices land) on the preview, with a
    progress bar; the last one is kept, so a rerun with the same choices is free."""
    truth = cache.truth_at(cur, cur.preview.shape[:2])
    signature = (cur.key, cur.truth_key, spec.name, repr(grid), repr(sorted(params.items())),
                 tuple(seeds))
    last = st.session_state.get("tryall.last")
    if last is not None and last[0] == signature:
        return last[1], last[2]
    bar = st.progress(0.0, text=f"Trying {len(grid.settings())} settings…")
    found = sweep.sweep(cur.preview, spec.name, grid, params=params, seeds=seeds or None,
                        truth=truth, ignore=cur.truth_ignore, budget_s=120,
                        progress=lambda f: bar.progress(f, text=f"Trying settings: {f:.0%}"))
    marks = sweep.marks(cur.preview, spec.name, next(iter(grid.axes)), params=params,
                        seeds=seeds or None, truth=truth, ignore=cur.truth_ignore)
    bar.empty()
    st.session_state["tryall.last"] = (signature, found, marks)
    return found, marks


def adopt(method: str, params: dict) -> None:
    """Button callback: the Segment page opens with ``method`` at ``params``."""
    keep("segment.method", method)
    for name, value in params.items():
        keep(f"segment.{method}.{name}", value)
    st.session_state["tryall.go"] = True
