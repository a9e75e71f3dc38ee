"""eval-lipsync on real speech: the measures on known answers, the take cache, the CLI's --videos mode,
the bench suite's skip, and (where ../shared/data is here) a non-English recording animated by every driver."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from engine.animate import animate
from engine.audio import load_audio
from engine.cli.main import main
from engine.errors import InputError
from engine.motion import MotionClip
from engine.evaluation import real as er

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "engine" / "data" / "voices" / "sample_en.wav"
SPANISH = ROOT.parent / "shared" / "data" / "speech" / "dreamtalk" / "spanish1.wav"


def test_the_best_lag_is_found_and_bad_frames_are_left_out():
    t = np.arange(200)
    tracked = np.sin(t / 4.0)
    late = np.roll(tracked, 3)                      # the driver 3 frames late
    good = np.ones(200, bool)
    lags = er.lagged_correlations(late, tracked, good)
    assert max(lags, key=lags.get) == 3 and lags[3] == pytest.approx(1.0) and lags[0] < 0.9
    spoiled = tracked.copy()
    spoiled[50:60] = 100.0                          # a tracking failure, marked bad
    good[50:60] = False
    assert er.lagged_correlations(tracked, spoiled, good)[0] == pytest.approx(1.0)
    assert er.lagged_correlations(np.zeros(200), tracked, good)[0] == 0.0


def clip_with(channels: dict, fps: float = 25.0) -> MotionClip:
    names = list(channels)
    return MotionClip(names, np.stack([channels[n] for n in names], axis=1).astype(np.float32), fps)


def test_motion_stats_count_blinks_over_a_tracked_eyes_rest_value_and_ignore_jitter():
    T, fps = 250, 25.0                              # 10 s
    blink = np.full(T, 0.3)                         # a tracked eye rests half shut
    for start in (20, 100, 180):
        blink[start:start + 4] = 0.9                # three blinks of 0.16 s
    blink[60] = 0.9                                 # one frame: noise, not a blink
    jitter = np.radians(0.5) * np.where(np.arange(T) % 2, 1.0, -1.0)
    stats = er.motion_stats(clip_with({"eyeBlinkLeft": blink, "eyeBlinkRight": blink, "neck_rx": jitter}, fps))
    assert stats.blinks_per_min == pytest.approx(18.0) and stats.blink_s == pytest.approx(0.16)
    assert stats.head_speed_deg_s < 0.25 * (1.0 * fps)  # the raw jitter is 25 deg/s; averaged it is 5
    nod = np.radians(5.0) * np.sin(np.arange(T) / fps * 2 * np.pi * 0.5)
    moving = er.motion_stats(clip_with({"neck_rx": nod}, fps))
    assert moving.head_sd_deg == pytest.approx(5.0 / np.sqrt(2) / 3, rel=0.05) and moving.blinks_per_min == 0.0


def test_opening_cycles_count_rises_and_falls_not_wiggles():
    assert er.opening_cycles(np.array([0, 5, 0, 5, 3, 5, 1, 6, 0.0])) == 3
    assert er.opening_cycles(np.array([0, 5, 4, 5, 4, 5, 0.0])) == 1       # wiggles under 3 mm are one opening
    assert er.opening_cycles(np.array([5, 0, 1.0])) == 0                   # a fall with no rise before it
    assert er.peaks(np.array([-40, -20, -35, -18, -40.0]), 6.0) == 2


def test_manifest_rows_and_errors(tmp_path):
    (tmp_path / "m.txt").write_text("# held out\na.mp4;Speaker A\nsub/b.mp4\n\n")
    assert er.manifest_videos(tmp_path / "m.txt") == [(tmp_path / "a.mp4", "Speaker A"), (tmp_path / "sub/b.mp4", "b")]
    with pytest.raises(InputError, match="does not exist"):
        er.manifest_videos(tmp_path / "none.txt")


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """A 'video' whose tracked take is already cached: the sound of the shipped voice, and a take that is
    the phonetic driver's own performance at 25 fps with its last frames marked bridged."""
    from engine.video.track import sidecar_path

    folder = tmp_path_factory.mktemp("real")
    audio = load_audio(SAMPLE)
    path = folder / "talk.wav"
    sf.write(path, audio.samples[: 3 * audio.rate], audio.rate)
    truth = animate(load_audio(path), fps=25.0, driver="phonetic")
    cache = folder / "out" / "real_speech" / "takes"
    saved = cache / f"talk-{er.take_key(path)}.npz"
    cache.mkdir(parents=True)
    truth.save(saved)
    bridged = np.zeros(truth.num_frames, bool)
    bridged[-3:] = True
    np.savez(sidecar_path(saved), bridged=bridged)
    (folder / "manifest.txt").write_text("talk.wav;Test Speaker\n")
    return folder, truth


def test_a_driver_scored_against_its_own_performance_is_perfect(talk):
    folder, truth = talk
    videos = er.manifest_videos(folder / "manifest.txt")
    result = er.evaluate_real_speech(videos, folder / "out" / "real_speech" / "takes", ("phonetic", "energy"))
    scores = {s.driver: s for s in result.scores}
    phonetic, energy = scores["phonetic"], scores["energy"]
    assert phonetic.r_lag0 == pytest.approx(1.0) and phonetic.best_lag == 0 and phonetic.lip_error_mm < 1e-6
    assert phonetic.frames == truth.num_frames - 3 and phonetic.speaker == "Test Speaker"
    assert energy.r_best < 0.99 and energy.lip_error_mm > 0.5
    assert result.best_driver() == "phonetic"
    assert {"common_lag": 0, "r_common_lag": pytest.approx(1.0)}.items() <= result.summary()[0].items()
    rows = {r["driver"]: r for r in result.summary()}
    assert rows["tracked video"]["head_sd_deg"] == pytest.approx(rows["phonetic"]["head_sd_deg"], abs=0.3)


def test_cli_videos_mode_writes_the_json_and_the_plot(talk, capsys):
    folder, _ = talk
    out = folder / "out"
    assert main(["eval-lipsync", "--videos", str(folder / "manifest.txt"), "--driver", "phonetic",
                 "--out", str(out)]) == 0
    data = json.loads((out / "eval_lipsync_real.json").read_text())
    assert data["summary"][0]["driver"] == "phonetic" and data["summary"][0]["r_best"] == pytest.approx(1.0)
    assert (out / "eval_lipsync_real.png").read_bytes()[:4] == b"\x89PNG"
    assert "phonetic" in capsys.readouterr().out


def test_cli_videos_folder_without_held_out_clips_is_one_sentence(tmp_path, capsys):
    assert main(["eval-lipsync", "--videos", str(tmp_path)]) != 0
    assert "none of the held-out videos" in capsys.readouterr().err


def test_bench_suite_skips_without_the_shared_data(tmp_path, monkeypatch):
    from engine.bench import real_speech_suite

    monkeypatch.setattr(real_speech_suite, "DATA", tmp_path / "absent")
    rows = real_speech_suite.real_speech(True, tmp_path)
    assert len(rows) == 1 and rows[0].note.startswith("skipped")


@pytest.mark.skipif(not SPANISH.is_file(), reason="../shared/data (dreamtalk recordings) is not here")
@pytest.mark.parametrize("driver", ["adf", "phonetic", "energy"])
def test_a_spanish_voice_opens_and_closes_the_mouth_with_its_syllables(driver):
    from engine.head import load_head
    from engine.drivers.phonetic.metrics import mouth_opening

    audio = load_audio(SPANISH)                     # 4.5 s
    gap = mouth_opening(load_head(), animate(audio, fps=30.0, driver=driver))
    r = np.corrcoef(gap, er.loudness(audio, 30.0, gap.size))[0, 1]
    syllables = er.peaks(er.loudness(audio, 30.0, gap.size), er.SYLLABLE_DB)
    assert np.all(np.isfinite(gap)) and r > 0.3 and er.opening_cycles(gap) >= max(3, syllables // 3)


def test_a_video_the_tracker_refuses_is_remembered_and_refused_again(tmp_path, monkeypatch):
    from engine.video.errors import VideoError

    path = tmp_path / "talk.mp4"
    path.write_text("not a video")
    with pytest.raises(VideoError) as first:
        er.tracked_take(path, tmp_path / "cache")
    monkeypatch.setattr("engine.video.track_video", lambda *a, **k: pytest.fail("tracked twice"))
    with pytest.raises(VideoError) as second:
        er.tracked_take(path, tmp_path / "cache")
    assert str(second.value) == str(first.value) and len(list((tmp_path / "cache").glob("*.failed.txt"))) == 1


def test_the_bench_says_whether_the_default_driver_measures_best():
    from engine.animate import default_driver
    from engine.bench.real_speech_suite import default_row

    default = default_driver()
    still = er.MotionStats(0.0, 0.0, 0.0, 0.0)
    other = "energy" if default != "energy" else "phonetic"
    scores = [er.VideoScore("a.mp4", "A", default, 0.1, 0.5, 2, 9.0, 50, still),
              er.VideoScore("a.mp4", "A", other, 0.3, 0.4, 1, 9.0, 50, still)]
    evaluation = er.RealSpeechEvaluation([default, other], scores)
    assert evaluation.best_driver() == default and default_row(evaluation).unit == "yes"
    scores[1].r_best = 0.6
    assert evaluation.best_driver() == other and default_row(evaluation).unit == "no"


def test_recordings_with_known_words_are_read_from_their_transcript_files(tmp_path):
    """... and the LibriVox readings, which train the ADF, are not among them."""
    (tmp_path / "librivox").mkdir()
    (tmp_path / "pocketsphinx" / "cards").mkdir(parents=True)
    for wav in ("librivox/a.wav", "pocketsphinx/cards/001.wav", "pocketsphinx/cards/002.wav", "whisper_jfk.flac"):
        (tmp_path / wav).write_bytes(b"")
    (tmp_path / "librivox" / "a.txt").write_text(" he was not an ill disposed young man\n")
    (tmp_path / "librivox" / "b.txt").write_text("no recording beside this one")
    (tmp_path / "pocketsphinx" / "cards" / "cards.transcription").write_text(
        "<s> ten of clubs  </s> (001)\n<s> five five  </s> (002)\n<s> seven of hearts  </s> (009)\n")
    rows = {p.relative_to(tmp_path).as_posix(): w for p, w in er.known_word_recordings(tmp_path)}
    assert rows == {"pocketsphinx/cards/001.wav": "ten of clubs",
                    "pocketsphinx/cards/002.wav": "five five",
                    "whisper_jfk.flac": "and so my fellow americans ask not what your country can do for you "
                                        "ask what you can do for your country"}


def test_the_bench_has_a_row_per_held_out_speaker_with_every_driver():
    from engine.bench.real_speech_suite import speaker_rows

    still = er.MotionStats(0.0, 0.0, 0.0, 0.0)
    scores = [er.VideoScore("a.mp4", "A", "adf", 0.1, 0.5, 2, 9.0, 50, still),
              er.VideoScore("b.mp4", "A", "adf", 0.3, 0.7, 1, 9.0, 50, still),
              er.VideoScore("a.mp4", "A", "energy", 0.0, 0.2, 0, 9.0, 50, still),
              er.VideoScore("c.mp4", "B", "adf", 0.2, 0.4, 1, 9.0, 50, still)]
    rows = speaker_rows(er.RealSpeechEvaluation(["adf", "energy"], scores))
    assert [r.value for r in rows] == pytest.approx([0.6, 0.4])
    assert "speaker A" in rows[0].name and rows[0].note == "adf 0.60 (lag 0 0.20); energy 0.20 (lag 0 0.00)"


def test_the_bench_puts_each_leading_drivers_lag_0_beside_the_same_driver_on_the_sound():
    from engine.bench.real_speech_suite import lead_rows
    from engine.drivers.registry import driver_named

    still = er.MotionStats(0.0, 0.0, 0.0, 0.0)
    ahead = [er.VideoScore("a.mp4", "A", "adf", 0.4, 0.5, 0, 9.0, 50, still, {0: 0.4, 2: 0.1}),
             er.VideoScore("a.mp4", "A", "energy", 0.1, 0.2, 2, 9.0, 50, still, {0: 0.1, 2: 0.2})]
    on_sound = [er.VideoScore("a.mp4", "A", "adf", 0.2, 0.5, 2, 9.0, 50, still, {0: 0.2, 2: 0.5})]
    rows = lead_rows(er.RealSpeechEvaluation(["adf", "energy"], ahead), er.RealSpeechEvaluation(["adf"], on_sound))
    assert len(rows) == 1 and rows[0].value == pytest.approx(0.4) and rows[0].baseline == pytest.approx(0.2)
    assert f"{driver_named('adf').lead_ms:g} ms ahead" in rows[0].name and "(lead 0: +2)" in rows[0].note
