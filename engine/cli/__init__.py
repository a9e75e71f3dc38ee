"""The command-line interface: `python -m engine <command> ...`."""


def send_early_job(argv) -> None:
    """Probe the video of a `track` command line and send the early MediaPipe child its job
    (`engine.early_tracker.start_early`'s `send_job`); imported only when that child was started."""
    from ..video.landmarks import send_early_job as send

    send(argv)
