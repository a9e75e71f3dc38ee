"""Property: any job of any kind, through its JSON text and back (what crosses to the worker process or a
batch worker), is itself again, read by the kind-dispatching `from_json` and by its own class."""

from __future__ import annotations

import json

import pytest

from engine.jobs import AnimateJob, RenderJob, TrackJob, from_json

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

texts = st.text(max_size=12)
maybe = st.none() | texts
numbers = st.floats(allow_nan=False)
text_lists = st.lists(texts, max_size=3)
animate_jobs = st.builds(
    AnimateJob, audio=texts, fps=numbers | st.integers(-10**6, 10**6), driver=maybe, seed=st.integers(),
    start_frame=st.integers(), transcript=maybe, style=st.none() | st.dictionaries(texts, numbers, max_size=3),
    style_items=text_lists, style_clip=maybe, tracker_python=maybe, device=texts, models_dir=maybe,
    outputs=text_lists)
cameras = st.none() | st.fixed_dictionaries({"width": st.integers(1, 4096), "fx": numbers,
                                             "rotation": st.lists(numbers, min_size=9, max_size=9)})
track_jobs = st.builds(TrackJob, video=texts, output=maybe, head=maybe, landmarks=maybe, start_s=numbers,
                       end_s=st.none() | numbers, start_frame=st.none() | st.integers(), overlay=maybe,
                       tracker_python=maybe)
render_jobs = st.builds(RenderJob, clip=texts, output=texts, look=texts, size=st.integers(), camera=cameras,
                        device=texts, models_dir=maybe, video=maybe, audio=maybe)


@settings(max_examples=200, deadline=None)
@given(st.one_of(animate_jobs, track_jobs, render_jobs))
def test_any_job_survives_its_json_text(job):
    text = json.dumps(job.to_json())
    assert from_json(text) == job and type(job).from_json(text) == job
    assert json.loads(text)["kind"] == job.kind and json.loads(text)["version"] == job.version
