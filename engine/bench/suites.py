"""The engine's benchmark suites, by name: each (quick: bool, out: folder for figures) -> list[Row].

Only the runtime's suites: the training extra's (NLDF vs its NeRF teacher, which needs torch) run from
`engine.training.bench` and reach the report as `--extra` rows, so this registry never imports training.
What the suites measure with is `engine.bench.measure`.
"""

from __future__ import annotations

from .audio_suite import long_file_loading
from .batch_suite import batch_memory, batch_throughput
from .head_suite import skinning
from .real_speech_suite import real_speech
from .speech_suite import adf_driver, energy_driver, lipsync_quality, phonetic_driver
from .startup_suite import startup
from .style_suite import adf_styles
from .style_video_suite import style_from_video
from .throughput_suite import render_throughput
from .video_suite import known_answers, real_clips, tracking_memory, tracking_speed

SUITES = [("start-up", startup), ("skinning", skinning), ("long audio file", long_file_loading),
          ("energy driver", energy_driver),
          ("phonetic driver", phonetic_driver), ("lip-sync quality", lipsync_quality), ("adf network", adf_driver),
          ("styles", adf_styles),
          ("render throughput", render_throughput),
          ("video tracking speed", tracking_speed), ("video tracking memory", tracking_memory),
          ("video tracking accuracy", real_clips), ("video known answers", known_answers),
          ("style from a video", style_from_video),
          ("lip sync on real speech", real_speech),
          ("batch throughput", batch_throughput), ("batch memory", batch_memory)]
# Suites run elsewhere, named here so `--only` accepts them: `engine.training.bench` runs them and their
# rows arrive as `--extra` JSON (a test checks the names against that module's).
ELSEWHERE = ("nldf vs nerf", "look from video")
