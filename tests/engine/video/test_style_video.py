"""Style from a video: `animate --style-clip talk.mp4` tracks the video, then reads its speaking style
with the ADF's style encoder (ERLNet's style video)."""

from __future__ import annotations

import pytest

from conftest import ffmpeg, needs_tracker
from engine.cli.main import main
from engine.motion import MotionClip
from engine.style import NEUTRAL, RANGES

pytestmark = needs_tracker


@pytest.fixture(scope="module")
def voice(tmp_path_factory):
    """Two seconds of a pulsing tone as the voice to animate."""
    path = tmp_path_factory.mktemp("voice") / "voice.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=150:duration=2", "-af", "volume='0.5+0.5*sin(2*PI*3*t)':eval=frame",
           path)
    return path


@pytest.fixture
def takes(monkeypatch) -> list:
    """The clips `engine.video.track_video` returns while the test runs (MediaPipe jitters a little from run
    to run, and the style encoder can be sensitive to it: the style is checked against the same tracking)."""
    import engine.video

    real, seen = engine.video.track_video, []

    def recording(*args, **kwargs):
        take = real(*args, **kwargs)
        seen.append(take.clip)
        return take
    monkeypatch.setattr(engine.video, "track_video", recording)
    return seen


def test_a_video_gives_the_encoders_style_at_its_measured_blink_rate_and_brow_activity(known_video, voice, takes,
                                                                                        tmp_path):
    from engine.animate.reference import brow_activity, measure
    from engine.drivers.adf.driver import style_of_clip

    out = tmp_path / "styled.npz"
    assert main(["animate", str(voice), "-o", str(out), "--driver", "adf", "--style-clip", str(known_video)]) == 0
    clip = MotionClip.load(out)
    styled, seen = clip.metadata["style"], measure(takes[0])
    assert len(takes) == 1 and takes[0].metadata["source_video"] == known_video.name
    assert seen["blinks"] == 2                                # the known video blinks twice in 1.6 s
    assert styled == pytest.approx({**style_of_clip(takes[0]).to_dict(), "blink_rate": seen["blinks_per_min"]},
                                   abs=1e-6)
    moved = {n for n, (low, high) in RANGES.items() if abs(styled[n] - getattr(NEUTRAL, n)) > 0.1 * (high - low)}
    assert moved, styled                                      # not the neutral style
    performed = brow_activity({n: clip.channel(n) for n in clip.names})
    assert performed == pytest.approx(seen["brow_activity"], rel=0.05)
    assert clip.metadata["style_reference"]["file"] == known_video.name and clip.metadata["brows_matched"]["gain"] > 1


def test_style_arguments_still_apply_on_top_of_the_video(known_video, voice, takes, tmp_path):
    from engine.animate.reference import measure
    from engine.drivers.adf.driver import style_of_clip

    out = tmp_path / "styled.npz"
    assert main(["animate", str(voice), "-o", str(out), "--driver", "adf", "--style-clip", str(known_video),
                 "--style", "blink_rate=3"]) == 0
    style = MotionClip.load(out).metadata["style"]
    video = {**style_of_clip(takes[0]).to_dict(), "blink_rate": measure(takes[0])["blinks_per_min"]}
    assert style == pytest.approx({**video, "blink_rate": 3.0}, abs=1e-6)


def test_a_video_without_a_face_as_style_reference_is_a_sentence(voice, tmp_path, capsys):
    wall = tmp_path / "wall.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=gray:s=128x128:d=0.5:r=25", wall)
    out = tmp_path / "styled.npz"
    assert main(["animate", str(voice), "-o", str(out), "--driver", "adf", "--style-clip", str(wall)]) == 2
    assert "No face was found" in capsys.readouterr().err and not out.exists()


def test_the_bench_shows_video_neutral_and_both_encoders_side_by_side(known_video, monkeypatch, tmp_path):
    from engine.bench import style_video_suite as suite

    monkeypatch.setattr(suite, "VIDEOS", known_video.parent)
    monkeypatch.setattr(suite, "clips", lambda: [(known_video.name, "the built-in head")])
    monkeypatch.setattr(suite, "TAKES", tmp_path)
    monkeypatch.setattr(suite, "SEEDS", (1,))
    rows = suite.style_from_video(quick=True)
    per_clip, summary = [r for r in rows if "moved" not in r.name], [r for r in rows if "moved" in r.name]
    assert [r.name.split(": ")[-1] for r in per_clip] == [f"{n}, {label}" for n in suite.STATISTICS
                                                           for label, _ in suite.ENCODERS]
    head = per_clip[0]              # the known video's RMS head rotation is ~8 degrees (18, 8 and 5 degree swings)
    assert head.baseline_name == "neutral" and "the video: " in head.note
    assert 5.0 < float(head.note.split(": ")[1].split(";")[0]) < 12.0, head.note
    assert len(summary) == len(suite.STATISTICS) * len(suite.ENCODERS) + len(suite.MEASURED_STATISTICS)
    assert all(r.baseline == 1 and r.value in (0, 1) for r in summary)
    assert list(tmp_path.glob("*.npz")), "the take is cached where the suite was told"


def test_fraction_of_the_way_from_neutral_to_the_video():
    from engine.bench.style_video_suite import fraction_of_the_way

    assert fraction_of_the_way(2.0, 1.5, 0.0) == pytest.approx(0.25)
    assert fraction_of_the_way(2.0, 3.0, 0.0) == pytest.approx(-0.5)      # the wrong way
    assert fraction_of_the_way(1.0, 5.0, 1.0) == 0.0
