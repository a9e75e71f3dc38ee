"""`python -m engine ...`: the engine's command-line tool."""

import sys

from . import early_tracker
from .cli import send_early_job

try:
    try:
        early_tracker.start_early(send_job=send_early_job)  # `track`: MediaPipe's child loads, and ffmpeg starts, beside the imports
        from .cli.main import main
    except KeyboardInterrupt:        # Ctrl-C this early: the same sentence as during the command
        print("\ncancelled: nothing more was written.", file=sys.stderr)
        code = 1
    else:
        code = main()
finally:
    early_tracker.close_early()  # one the command never used (it failed first, or was interrupted)
sys.exit(code)
