"""What happens to the Action already on an ID block when a run gives it a new Action of ours.

Our own Action from an earlier run is replaced (and removed once nothing uses
it). An artist's Action is never overwritten or lost: by default it goes onto
a muted NLA track; in Replace mode it is only unassigned. Either way it gets
a fake user, so it stays in the saved file. Legacy (4.2) and slotted (4.4+)
Actions alike: only `animation_data.action`, NLA tracks and fake users are used.
"""

from __future__ import annotations

import bpy

from .action_compat import OWNER_TAG

PUSH_TO_NLA = 'PUSH_TO_NLA'
REPLACE = 'REPLACE'
MODES = (  # the panel's "Existing Action" choice (enum items)
    (PUSH_TO_NLA, "Push to NLA",
     "An Action of yours already on the head is moved onto a muted NLA track, and kept in the file with a fake "
     "user; ours becomes the active Action. Our own Actions from earlier runs are replaced"),
    (REPLACE, "Replace",
     "Our Action is assigned in place of yours; yours is left untouched in the file with a fake user so it is "
     "never lost, and is not put on the NLA. Our own Actions from earlier runs are replaced"),
)


def check_mode(mode: str) -> None:
    """Raise ValueError unless `mode` is `PUSH_TO_NLA` or `REPLACE` (a programming error, not a user's)."""
    if mode not in (PUSH_TO_NLA, REPLACE):
        raise ValueError(f"Unknown Existing Action mode {mode!r}; expected {PUSH_TO_NLA!r} or {REPLACE!r}.")


def set_aside(id_block, mode: str = PUSH_TO_NLA) -> None:
    """Unassign `id_block`'s active Action before ours takes its place: ours (an earlier run's) is removed
    when nothing else uses it; an artist's is kept as `mode` says (`PUSH_TO_NLA` or `REPLACE`)."""
    check_mode(mode)
    ad = id_block.animation_data
    previous = ad.action if ad is not None else None
    if previous is None:
        return
    if previous.get(OWNER_TAG):
        ad.action = None
        if previous.users == 0:
            bpy.data.actions.remove(previous)
        return
    previous.use_fake_user = True  # in both modes: saved with the file even when nothing uses it
    if mode == PUSH_TO_NLA:
        push_to_muted_track(id_block, previous)
    ad.action = None


def push_to_muted_track(id_block, action) -> None:
    """Put `action` on a new muted NLA track of `id_block`, named "Previous: <action>"."""
    track = id_block.animation_data.nla_tracks.new()
    track.name = f"Previous: {action.name}"
    track.strips.new(action.name, int(action.frame_range[0]), action)
    track.mute = True
