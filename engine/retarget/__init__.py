"""Retargeting: a MotionClip's channels onto another rig's shape keys and bones.

By name (`map_by_name`: case, separators and side spellings ignored, plus an
alias table for CC4, VRM/VRoid and Faceware-style names) or by fit
(`fit_mapping`: least squares of the rig's shape keys against the built-in
head's expressions on the iBUG-68 landmarks). The result is a `Mapping`, plain
JSON the user can read and edit. A user's own alias table ({channel: [shape key
names]}, `read_alias_table`) extends the built-in one for a call, never globally.
A rig with Oculus visemes (`viseme_PP`, ...) but no ARKit mouth shapes takes
the mouth as viseme weights (`rig_visemes`). Pure numpy: the add-on does the keying.
"""

from .fit import (fit_mapping, head_landmark_deltas, head_landmarks, landmark_deltas, landmark_directions,
                  landmark_vertices, nearest_vertices, similarity_transform)
from .joint_shapes import JOINT_SHAPE_SOURCES, shape_channels
from .mapping import Mapping, MappingError
from .names import ALIASES, map_by_name, name_key, read_alias_table, with_user_aliases
from .rig_visemes import VISEME_NAMES, add_viseme_channels, is_viseme_channel, viseme_channels, wants_visemes

__all__ = ["ALIASES", "JOINT_SHAPE_SOURCES", "Mapping", "MappingError", "fit_mapping", "head_landmark_deltas",
           "head_landmarks", "landmark_deltas", "landmark_directions", "landmark_vertices", "map_by_name",
           "name_key", "nearest_vertices", "read_alias_table", "shape_channels", "similarity_transform",
           "with_user_aliases", "VISEME_NAMES", "add_viseme_channels", "is_viseme_channel", "viseme_channels",
           "wants_visemes"]
