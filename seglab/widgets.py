"""Widgets built from segcore's specs: one per method parameter (with its human
label) and the method picker. The image and mask uploads live in :mod:`seglab.uploads`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

import segcore
from segcore.registry import MethodSpec, Param, format_value

from seglab import cache
from seglab.state import CurrentImage, clean_name, kept, persistent, remember, restore, shown

#: The extra choice of a file parameter: the user's own file.
OWN_FILE = "your own file…"


def _help(p: Param) -> str:
    # The code name stays visible: it is what --set, scripts and notebooks use.
    return f"{p.help}\n\nIn code: `{p.name}`" if p.help else f"In code: `{p.name}`"


def param_widgets(spec: MethodSpec, *, scope: str) -> tuple[dict, list[str]]:
    """One widget per parameter of ``spec``; returns the values and what is still
    missing before the method can run (e.g. a checkpoint file).

    Widget keys are ``"{scope}.{method}.{param}"``, so every page and every method
    keeps its own settings, and they survive page switches.
    """
    values, missing = {}, []
    for p in spec.params:
        key = f"{scope}.{spec.name}.{p.name}"
        if not spec.is_active(p.name, values):
            # Hidden while it does not matter; its last value is kept for when it does.
            values[p.name] = kept(key, p.default)
            continue
        if p.file is not None:
            value = _file_choice(p, key)
            if value is None:
                missing.append(f"upload a file for “{p.label}”")
            else:
                values[p.name] = value
            continue
        values[p.name] = _widget(p, key)
    return values, missing


def _widget(p: Param, key: str):
    # A value kept from an older spec may no longer be valid; then the default it is.
    in_range = (lambda v: isinstance(v, (int, float)) and p.low <= v <= p.high)
    if p.kind == "bool":
        restore(key, bool(p.default))
        st.checkbox(p.label, key=key, help=_help(p))
    elif p.kind == "choice":
        options = list(p.choices)
        restore(key, p.default, lambda v: v in options)
        st.selectbox(p.label, options, key=key, help=_help(p), format_func=str)
    elif p.log:
        grid = p.grid()
        restore(key, p.default, lambda v: v in grid)
        st.select_slider(p.label, options=grid, key=key, help=_help(p), format_func=format_value)
    elif p.kind == "int" and p.high - p.low > 1000:
        restore(key, int(p.default), in_range)
        st.number_input(p.label, min_value=int(p.low), max_value=int(p.high), step=1, key=key,
                        help=_help(p))
    elif p.kind == "int":
        restore(key, int(p.default), in_range)
        st.slider(p.label, min_value=int(p.low), max_value=int(p.high),
                  step=int(p.step or 1), key=key, help=_help(p))
    else:
        step = p.slider_step()
        decimals = max(0, len(f"{step:.10f}".rstrip("0").split(".")[1]))
        restore(key, float(p.default), in_range)
        st.slider(p.label, min_value=float(p.low), max_value=float(p.high), step=step,
                  key=key, help=_help(p), format=f"%.{decimals}f")
    return remember(key)


def _file_choice(p: Param, key: str) -> str | None:
    """A choice that may also be a file: the listed values, or an uploaded file
    saved to the server's private folder, whose path becomes the value."""
    options = list(p.choices) + [OWN_FILE]
    choice = persistent(st.selectbox, p.label, key=key, default=p.default,
                        valid=lambda v: v in options, options=options, help=_help(p),
                        format_func=str)
    if choice != OWN_FILE:
        return choice
    f = p.file
    upload = st.file_uploader(f.label, type=list(f.types), key=key + ".file", help=f.help)
    companion = None
    if f.companion_types:
        companion = st.file_uploader(f.companion_label, type=list(f.companion_types),
                                     key=key + ".companion")
    if upload is not None:
        # Saved under the content's hash and a suffix from the allowed types: nothing the
        # browser sent becomes part of a path.
        suffix = Path(upload.name).suffix.lower().lstrip(".")
        path = cache.save_upload(upload.getvalue(), "." + (suffix if suffix in f.types else f.types[0]),
                                 companion.getvalue() if companion is not None else None,
                                 "." + f.companion_types[0] if f.companion_types else "")
        st.session_state[key + ".path"] = path
        st.session_state.setdefault("upload_names", {})[path] = shown(clean_name(upload.name))
    return st.session_state.get(key + ".path")


def method_picker(*, key: str, label: str = "Method") -> MethodSpec:
    """A select box over every registered method, by its human label."""
    specs = segcore.list_methods()
    names = [m.name for m in specs]
    labels = {m.name: m.label for m in specs}
    name = persistent(st.selectbox, label, key=key, default=names[0], valid=lambda v: v in names,
                      options=names, format_func=lambda n: labels[n])
    return segcore.get_method(name)


def describe_method(spec: MethodSpec, cur: CurrentImage) -> None:
    st.caption(spec.description)
    if spec.gray_only and cur.image.shape[2] == 3:
        st.caption(":material/info: This method works on gray values: your colour image is "
                   "reduced to gray first.")


def method_settings(spec: MethodSpec, cur: CurrentImage, *, scope: str) -> tuple[dict, list[str]]:
    """The parameter widgets with what the method says about these settings
    (the classes of the chosen model) below them."""
    params, missing = param_widgets(spec, scope=scope)
    if not missing:
        notes, error = cache.settings_notes(cur, spec.name, params)
        for note in notes:
            st.caption(note)
        if error:
            missing.append(f"these settings cannot be used: {error}")
    return params, missing


def metric_row(items: list[tuple[str, str, str]]) -> None:
    """Metrics ``(label, value, help)`` side by side, each as wide as its text, so a
    narrow window wraps them to a second line instead of cutting them short."""
    with st.container(horizontal=True, gap="large"):
        for label, value, help_text in items:
            st.metric(label, value, help=help_text or None, width="content")


def two_panes(*, left: int = 300):
    """The controls pane (about ``left`` pixels) and the result pane beside it; in a
    narrow window the result moves below the controls instead of being squeezed."""
    row = st.container(horizontal=True, gap="large")
    return row.container(width=left), row.container(width="stretch")
