"""What every operator's poll says: the sentences shared by the buttons' disabled tooltips, and the one way a
reason ("" when none) becomes a poll's answer."""

from __future__ import annotations

NOT_REGISTERED = "The Talking Head add-on is not registered for this scene."
NO_HEAD = "Choose a head (or add the built-in head) first."
ANIMATING = "The head is being animated; wait for it, or press Esc to cancel."
TRACKING = "A video is being tracked; wait for it, or press Esc to cancel."


def allowed(cls, reason: str) -> bool:
    """A poll's answer for `reason`: True when it is empty; else False, with the reason as the operator's
    poll message (the disabled button's tooltip)."""
    if reason:
        cls.poll_message_set(reason)
    return not reason
