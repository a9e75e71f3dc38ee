"""Parse arguments, run one command, turn errors into one sentence and an exit code.

Exit codes: 0 success, 1 a job failed (or was cancelled), 2 bad input or usage.
`--debug` shows the traceback of any error.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from .. import early_tracker
from . import send_early_job
from ..errors import EngineError
from . import commands

DESCRIPTION = "Talking Head engine: voice -> head motion -> frames. Run '<command> --help' for details."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for register in commands.REGISTRY:
        register(sub)
    return parser


def main(argv=None) -> int:
    try:
        return _main(argv)
    finally:
        early_tracker.close_early()            # one the command did not use (it failed before the job)


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        early_tracker.start_early(argv, send_early_job)  # a video to track: MediaPipe's child loads meanwhile
        return int(args.handler(args) or 0)
    except EngineError as error:
        if args.debug:
            traceback.print_exc()
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:  # the reader went away (e.g. `| head`): not an error of ours
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("\ncancelled: nothing more was written.", file=sys.stderr)
        return 1
    except MemoryError:
        if args.debug:
            traceback.print_exc()
        print("error: this job needs more memory than is free; close other programs or use a shorter input.",
              file=sys.stderr)
        return 1
    except OSError as error:  # the place we read or write, not our code: a missing, read-only or full folder
        if args.debug:
            traceback.print_exc()
        where = f" '{error.filename}'" if error.filename else ""
        print(f"error: cannot use{where} ({error.strerror or error}); check that the folder exists, "
              "is writable and has space, and that each name is under 255 bytes.", file=sys.stderr)
        return 2
    except Exception as error:  # a bug: say so in one sentence, full detail under --debug
        if args.debug:
            traceback.print_exc()
        print(f"error: internal error ({type(error).__name__}: {error}); rerun with --debug "
              "and report it.", file=sys.stderr)
        return 1
