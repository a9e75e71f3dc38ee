"""Speaking styles from presets and NAME=VALUE parameters, applied in order."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from engine.style import NEUTRAL, PRESETS, SpeakingStyle, from_items, with_value


def test_items_apply_in_order_on_the_base():
    assert from_items([]) == NEUTRAL
    assert from_items(["subtle", "head_motion=2"]) == with_value(PRESETS["subtle"], "head_motion", 2.0)
    assert from_items(["head_motion=2", "subtle"]) == PRESETS["subtle"]  # a preset replaces everything
    base = SpeakingStyle(smile=0.5)
    assert from_items([" blink_rate = 9 "], base=base) == SpeakingStyle(smile=0.5, blink_rate=9.0)


@pytest.mark.parametrize("item,sentence", [("grin=1", "Unknown style parameter 'grin'; known: articulation"),
                                           ("smile=2", "'smile' must be between -1.0 and 1.0"),
                                           ("smile=a", "each takes one number"),
                                           ("happyish", "Unknown style preset 'happyish'")])
def test_bad_items_are_sentences(item, sentence):
    with pytest.raises(InputError, match=sentence):
        from_items([item])
