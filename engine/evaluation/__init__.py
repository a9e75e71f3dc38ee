"""Measuring lip sync (numpy only, no torch): `lipsync` scores drivers against known phones on
synthetic or transcribed speech; `real` scores them against the tracked lips of real talking videos.
The CLI's eval-lipsync and the bench suites read these; training never needs to be installed."""
