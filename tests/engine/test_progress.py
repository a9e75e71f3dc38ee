"""Progress events, cancellation at clean points, and the terminal bar."""

from __future__ import annotations

import io

import pytest

from engine.errors import Cancelled
from engine.progress import CancelToken, Progress, Reporter, TerminalBar


def test_events_and_fraction():
    events = []
    reporter = Reporter(events.append)
    reporter.stage("decode", 4)
    reporter.advance()
    reporter.update(4, "done")
    assert [e.fraction for e in events] == [0.0, 0.25, 1.0]
    assert events[-1] == Progress("decode", 4, 4, "done")
    assert Progress("x", 1, 0).fraction == 0.0


def test_cancel_stops_at_the_next_progress_point():
    token = CancelToken()
    reporter = Reporter(cancel=token)
    reporter.stage("work", 10)
    done = []
    with pytest.raises(Cancelled, match="nothing was written"):
        for i in range(10):
            if i == 3:
                token.cancel()
            reporter.advance()
            done.append(i)
    assert done == [0, 1, 2]


def test_bar_in_a_log_writes_whole_lines():
    stream = io.StringIO()
    bar = TerminalBar(stream, delay=0.0)
    for done in range(0, 101):
        bar(Progress("render", done, 100))
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and 10 <= len(lines) <= 11 and lines[-1].startswith("render: 100%")


def test_bar_stays_quiet_for_short_stages():
    stream = io.StringIO()
    bar = TerminalBar(stream, delay=5.0)
    for done in range(11):
        bar(Progress("quick", done, 10))
    assert stream.getvalue() == ""
