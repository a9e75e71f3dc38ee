"""`python -m engine ...`: the engine's command-line tool."""

import sys

from . import early_tracker

try:
    early_tracker.start_early()  # `track`: MediaPipe's child loads, and ffmpeg starts, beside the command's imports
    from .cli.main import main

    code = main()
finally:
    early_tracker.close_early()  # one the command never used (it failed first, or was interrupted)
sys.exit(code)
