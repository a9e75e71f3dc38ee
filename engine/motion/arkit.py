"""ARKit CSV in Epic's Live Link Face layout: write a MotionClip out, read one back.

The format alone: `write_csv` takes any clip and `read_take` returns the fields a MotionClip is built
from, so this module never imports the class (`engine.motion.clip` builds it: `read_arkit_csv`).

Columns: `Timecode`, `BlendShapeCount` (61), the 52 ARKit blendshapes in Live
Link Face order, then HeadYaw/Pitch/Roll and Left/RightEye Yaw/Pitch/Roll.

Timecode `HH:MM:SS:FF.mmm` is non-drop SMPTE at the nominal rate round(fps)
(30 for 29.97): frame count n = start_frame - 1 + k (from 0 for clips that
start before frame 1), `.mmm` the sub-frame in thousandths (`.000` here).

Blendshape columns take the clip's channel of the same name (case-insensitive:
`eyeBlinkLeft` is `EyeBlinkLeft`) as it is, so a take read from a CSV is
written back with its own values; a column the clip has no channel for is what
the joints imply (below), clipped to [0, 1]. Explicit values are written in
the shortest text that reads back as the same float32 (0.2115 stays 0.2115).
Our axes (FLAME's): Y up, +Z out of the face, +X to the subject's left, so
+rx pitches down (the jaw opens, the eyes look down) and +ry turns towards
the subject's left:
    JawOpen  = jaw_rx / jaw_open_max          (0.5 rad = fully open)
    JawLeft  = max(jaw_ry, 0) / jaw_side_max, JawRight = max(-jaw_ry, 0) / jaw_side_max
    EyeLookDown = max(rx, 0) / eye_look_max,  EyeLookUp = max(-rx, 0) / eye_look_max
    EyeLookOutLeft / EyeLookInRight = max(ry, 0) / eye_look_max (both eyes to the subject's left)
    EyeLookInLeft / EyeLookOutRight = max(-ry, 0) / eye_look_max
Rotation columns are radians, yaw/pitch/roll = intrinsic Y-X-Z Euler angles
(about Y, X, Z in our signs) of global * neck for the head, and of each eye joint.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from ..errors import MotionClipError
from ..files import FILE_ERRORS, os_reason, read_limited
from .output import write_motion_file
from .resample import rational_fps
from .validation import MAX_FPS, MAX_VALUES, check_timing

ARKIT_BLENDSHAPES = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight",
    "EyeLookOutRight", "EyeLookUpRight", "EyeSquintRight", "EyeWideRight", "JawForward",
    "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight",
    "MouthLeft", "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper", "MouthPressLeft",
    "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft",
    "BrowOuterUpRight", "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft",
    "NoseSneerRight", "TongueOut",
)
ARKIT_ROTATIONS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                   "RightEyeYaw", "RightEyePitch", "RightEyeRoll")
CSV_HEADER = ("Timecode", "BlendShapeCount") + ARKIT_BLENDSHAPES + ARKIT_ROTATIONS
BLENDSHAPE_COUNT = len(ARKIT_BLENDSHAPES) + len(ARKIT_ROTATIONS)  # 61, as Live Link Face writes
JAW_OPEN_MAX = 0.5      # rad of jaw_rx for JawOpen = 1
JAW_SIDE_MAX = 0.2      # rad of jaw_ry for JawLeft / JawRight = 1
EYE_LOOK_MAX = 0.5      # rad of eye rotation for EyeLook* = 1
LIVE_LINK_DEFAULT_FPS = 60
NOMINAL_RATES = (24, 25, 30, 48, 50, 60, 72, 90, 100, 120, 240)
ROTATION_JOINTS = (("Head", ("global", "neck")), ("LeftEye", ("eye_left",)), ("RightEye", ("eye_right",)))
MAX_CSV_BYTES = 1 << 30        # ~50 M values of Live Link Face text
MAX_GAP_SECONDS = 10.0         # a take with a longer hole between two rows is two takes
OFFSETS_KEY = "timecode_offsets"  # metadata: thousandths of a frame each row's timecode lies past its frame
_TIMECODE = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})[:;](\d+)(?:\.(\d+))?\s*$")


def arkit_name(channel: str) -> str:
    """The Live Link Face column for an ARKit channel name: 'eyeBlinkLeft' -> 'EyeBlinkLeft'."""
    return channel[:1].upper() + channel[1:]


def channel_name(column: str) -> str:
    """Our (ARKit lowerCamelCase) channel name for a column: 'EyeBlinkLeft' -> 'eyeBlinkLeft'."""
    return column[:1].lower() + column[1:]


def arkit_values(clip, jaw_open_max: float = JAW_OPEN_MAX, jaw_side_max: float = JAW_SIDE_MAX,
                 eye_look_max: float = EYE_LOOK_MAX) -> np.ndarray:
    """The 52 blendshapes in [0, 1] then the 9 rotations (rad), [T, 61], in CSV column order."""
    derived = _joint_blendshapes(clip, jaw_open_max, jaw_side_max, eye_look_max)
    shapes = np.zeros((clip.num_frames, len(ARKIT_BLENDSHAPES)))
    for b, column in enumerate(ARKIT_BLENDSHAPES):
        value = clip.channel(column) if clip.has_channel(column) else derived.get(column, 0.0)
        shapes[:, b] = np.clip(value, 0.0, 1.0) + 0.0  # no -0
    return np.concatenate([shapes, _rotations(clip)], axis=1)


def _joint(clip, joint: str) -> np.ndarray:
    """Axis-angle [T, 3] of a joint from its channels (zeros where absent)."""
    return np.stack([clip.channel(f"{joint}_r{a}") if clip.has_channel(f"{joint}_r{a}")
                     else np.zeros(clip.num_frames, np.float32) for a in "xyz"], axis=1).astype(np.float64)


def _joint_blendshapes(clip, jaw_open_max, jaw_side_max, eye_look_max) -> dict:
    """Blendshape contributions [T] implied by the jaw and eye joints (see the module docstring)."""
    jaw, left, right = (_joint(clip, j) for j in ("jaw", "eye_left", "eye_right"))
    up = _positive_part
    shapes = {"JawOpen": jaw[:, 0] / jaw_open_max,
              "JawLeft": up(jaw[:, 1], jaw_side_max), "JawRight": up(-jaw[:, 1], jaw_side_max)}
    for side, eye, outward in (("Left", left, 1.0), ("Right", right, -1.0)):
        shapes[f"EyeLookDown{side}"] = up(eye[:, 0], eye_look_max)
        shapes[f"EyeLookUp{side}"] = up(-eye[:, 0], eye_look_max)
        shapes[f"EyeLookOut{side}"] = up(outward * eye[:, 1], eye_look_max)
        shapes[f"EyeLookIn{side}"] = up(-outward * eye[:, 1], eye_look_max)
    return shapes


def _positive_part(x: np.ndarray, scale: float) -> np.ndarray:
    """max(x, 0) / scale, elementwise [T]."""
    return np.maximum(x, 0.0) / scale


def _rotations(clip) -> np.ndarray:
    """[T, 9]: yaw, pitch, roll (rad) of the head (global * neck), the left eye, the right eye."""
    from scipy.spatial.transform import Rotation  # lazy: import engine stays fast
    columns = []
    for _, joints in ROTATION_JOINTS:
        rotation = Rotation.identity(clip.num_frames)
        for joint in joints:
            rotation = rotation * Rotation.from_rotvec(_joint(clip, joint))
        columns.append(rotation.as_euler("YXZ"))
    return np.concatenate(columns, axis=1)


def timecode(frame_count: int, nominal_rate: int) -> str:
    """Non-drop SMPTE timecode 'HH:MM:SS:FF.000' of a frame count at an integer rate."""
    seconds, frames = divmod(int(frame_count), nominal_rate)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}.000"


def write_csv(clip, path, jaw_open_max: float = JAW_OPEN_MAX, jaw_side_max: float = JAW_SIDE_MAX,
              eye_look_max: float = EYE_LOOK_MAX) -> Path:
    """Write a MotionClip as a Live Link Face CSV (one row per frame); returns the path."""
    path = Path(path)
    values = arkit_values(clip, jaw_open_max, jaw_side_max, eye_look_max)
    shapes = values[:, :len(ARKIT_BLENDSHAPES)].astype(np.float32)
    nominal = max(1, round(clip.fps))
    first = max(clip.start_frame - 1, 0)
    offsets = _offsets(clip, nominal, first)
    lines = [",".join(CSV_HEADER)]
    for k, row in enumerate(values):
        numbers = ",".join([str(v) for v in shapes[k]] + [f"{v:.9g}" for v in row[len(ARKIT_BLENDSHAPES):]])
        whole, sub = divmod((first + k) * 1000 + offsets[k], 1000)
        lines.append(f"{timecode(whole, nominal)[:-3]}{sub:03d},{BLENDSHAPE_COUNT},{numbers}")
    return write_motion_file(path, ("\n".join(lines) + "\n").encode("utf-8"))


def _offsets(clip, nominal: int, first: int) -> list:
    """Thousandths of a frame each row's timecode lies past frame `first + k`: the take's own when the
    clip was read from a Live Link Face CSV at this rate (so its timecodes come back exactly), else 0."""
    kept = clip.metadata.get(OFFSETS_KEY)
    if isinstance(kept, list) and len(kept) == clip.num_frames and clip.metadata.get("timecode_rate") == nominal \
            and all(isinstance(v, int) and not isinstance(v, bool) and (first + k) * 1000 + v >= 0
                    and abs(v) <= 1000 * clip.num_frames for k, v in enumerate(kept)):
        return kept
    return [0] * clip.num_frames


def read_take(path, fps: float | None = None, start_frame: int | None = None, jaw_as_joint: bool = False,
              jaw_open_max: float = JAW_OPEN_MAX, jaw_side_max: float = JAW_SIDE_MAX) -> dict:
    """Read a Live Link Face CSV: the fields of its MotionClip (names [C], values [T, C], fps,
    start_frame, metadata).

    Blendshape columns become lowerCamelCase channels (`EyeBlinkLeft` ->
    `eyeBlinkLeft`); the rotation columns become `neck_r*`, `eye_left_r*`,
    `eye_right_r*` axis-angle channels. With `jaw_as_joint`, JawOpen/Left/Right
    become `jaw_rx` / `jaw_ry` instead (the inverse of the writer's mapping).
    `fps` defaults to the timecode's nominal rate (largest FF + 1 snapped to a
    standard rate, or Live Link Face's 60 when the take is under a second); pass
    23.976 or 29.97 for NTSC takes. Rows are placed by timecode; missing frames
    are filled linearly. `start_frame` defaults to the first frame count + 1.
    """
    path = Path(path)
    try:
        return _read_take(path, fps, start_frame, jaw_as_joint, jaw_open_max, jaw_side_max)
    except MemoryError as error:
        raise MotionClipError(f"The ARKit CSV file '{path.name}' needs more memory than is free to read.") from error
    except OSError as error:
        raise MotionClipError(f"The ARKit CSV file '{path.name}' could not be read ({os_reason(error)}).") from error
    except FILE_ERRORS as error:
        raise MotionClipError(f"The file '{path.name}' is not a readable Live Link Face CSV "
                              f"({str(error)[:100] or type(error).__name__}).") from error


def _read_take(path: Path, fps, start_frame, jaw_as_joint, jaw_open_max, jaw_side_max) -> dict:
    """`read_take` inside its boundary."""
    if fps is not None:
        check_timing(fps, 1)
    rate = float(rational_fps(fps)) if fps is not None else None
    header, rows = _read_table(path)
    codes = _timecodes(path, [row[0] for row in rows])
    counts, nominal = _frame_counts(path, codes, fps)
    columns = _numeric_columns(path, header, rows)
    frames, columns, offsets = _on_frame_grid(counts, columns, codes, nominal)
    channels = _channels_from_columns(columns, jaw_as_joint, jaw_open_max, jaw_side_max)
    rate = float(nominal) if rate is None else rate
    first = int(frames[0]) + 1 if start_frame is None else start_frame
    metadata = {"source": "arkit_csv", "source_file": path.name, "timecode_rate": nominal}
    if any(offsets):
        metadata[OFFSETS_KEY] = offsets
    return dict(names=list(channels), values=np.stack(list(channels.values()), axis=1),
                fps=rate, start_frame=first, metadata=metadata)


def _read_table(path: Path) -> tuple[list, list]:
    """Header [N] and the non-empty rows (each [N] strings)."""
    if not path.is_file():
        raise MotionClipError(f"The ARKit CSV file '{path}' does not exist.")
    try:
        text = read_limited(path, MAX_CSV_BYTES).decode("utf-8-sig")
        table = [row for row in csv.reader(io.StringIO(text, newline="")) if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as error:
        raise MotionClipError(f"The file '{path.name}' is not a readable CSV ({error}).") from None
    if not table or table[0][0].strip().lower() != "timecode":
        raise MotionClipError(f"The file '{path.name}' is not a Live Link Face CSV "
                              f"(its first column is not 'Timecode').")
    header = [cell.strip() for cell in table[0]]
    while header and not header[-1]:
        header.pop()
    for number, row in enumerate(table[1:], start=2):
        if len(row) < len(header) or any(cell.strip() for cell in row[len(header):]):
            raise MotionClipError(f"Line {number} of '{path.name}' has {len(row)} fields; "
                                  f"the header has {len(header)}.")
    if len(table) < 2:
        raise MotionClipError(f"The ARKit CSV file '{path.name}' has no frames.")
    return header, [row[:len(header)] for row in table[1:]]


def _timecodes(path: Path, codes: list) -> list:
    """(seconds, FF, thousandths) of each row's timecode [N]; MotionClipError naming a bad line."""
    parts = []
    for number, code in enumerate(codes, start=2):
        match = _TIMECODE.match(code)
        if not match or len(match.group(1)) > 6 or len(match.group(4)) > 4:
            raise MotionClipError(f"Line {number} of '{path.name}' has an invalid timecode '{code[:40]}'.")
        h, m, s, ff, sub = match.groups()
        sub = (sub or "0")[:3].ljust(3, "0")
        parts.append((int(h) * 3600 + int(m) * 60 + int(s), int(ff), int(sub)))
    return parts


def _frame_counts(path: Path, codes: list, fps) -> tuple[np.ndarray, int]:
    """Each row's frame count [N] (sub-frames kept) and the timecode's nominal rate; checks that they
    increase, without holes over MAX_GAP_SECONDS, over no more frames than a clip may hold."""
    seconds, frames, subs = (np.array(column, dtype=np.float64) for column in zip(*codes))
    nominal = max(1, round(fps)) if fps is not None else _nominal_rate(seconds, frames)
    if frames.max() >= max(nominal, 1000) or nominal > MAX_FPS:
        line = int(np.argmax(frames >= max(nominal, 1000))) + 2
        raise MotionClipError(f"Line {line} of '{path.name}' has a frame number past any timecode rate.")
    counts = seconds * nominal + frames + subs / 1000.0
    steps = np.diff(counts)
    if np.any(steps <= 0):
        line = int(np.argmax(steps <= 0)) + 3
        raise MotionClipError(f"The timecodes of '{path.name}' do not increase at line {line}.")
    if np.any(steps > MAX_GAP_SECONDS * nominal):
        line = int(np.argmax(steps > MAX_GAP_SECONDS * nominal)) + 3
        raise MotionClipError(f"The timecodes of '{path.name}' jump by {steps[line - 3] / nominal:.0f} s at line "
                              f"{line}; a take has no holes that long, so split the file into its takes.")
    if (counts[-1] - counts[0] + 2) * len(ARKIT_BLENDSHAPES + ARKIT_ROTATIONS) > MAX_VALUES:
        raise MotionClipError(f"'{path.name}' spans {counts[-1] - counts[0]:.0f} frames, more than a clip may hold.")
    return counts, int(nominal)


def _nominal_rate(seconds: np.ndarray, frames: np.ndarray) -> int:
    """The timecode rate: the smallest standard rate above the largest FF, when the take spans a second."""
    if seconds[0] == seconds[-1]:
        return LIVE_LINK_DEFAULT_FPS
    largest = int(frames.max()) + 1
    return next((rate for rate in NOMINAL_RATES if rate >= largest), largest)


def _numeric_columns(path: Path, header: list, rows: list) -> dict:
    """The known ARKit columns present, as column name -> values [N] (float64)."""
    known = {name.lower(): name for name in ARKIT_BLENDSHAPES + ARKIT_ROTATIONS}
    columns = {}
    for index, name in enumerate(header):
        if name.lower() not in known:
            continue
        try:
            columns[known[name.lower()]] = np.array([float(row[index]) for row in rows])
        except ValueError:
            raise MotionClipError(f"The column '{name}' of '{path.name}' holds a value that is not a number.") from None
    if not any(name in columns for name in ARKIT_BLENDSHAPES):
        raise MotionClipError(f"The file '{path.name}' has no ARKit blendshape columns.")
    return columns


def _on_frame_grid(counts: np.ndarray, columns: dict, codes: list, nominal: int) -> tuple:
    """Whole frames [T], each column [T] on them, and each frame's timecode offset (thousandths) [T].

    When each row is about one frame after the last (Live Link Face's clock
    drifts against the timecode, so a sub-frame creeps up and a frame number
    is skipped), the rows are the frames: values untouched, each row's offset
    from its frame kept so the writer gives back its timecode exactly.
    Otherwise (dropped frames) each row sits at its frame count with
    sub-frames, the frames run from the first to the last row (rounded,
    halves up), values are linear between rows and held past the last.
    """
    steps = np.diff(counts)
    if np.all((steps > 0.5) & (steps < 1.5)):
        exact = [(seconds * nominal + ff) * 1000 + sub for seconds, ff, sub in codes]
        first = exact[0] // 1000
        frames = first + np.arange(len(counts), dtype=np.float64)
        return frames, columns, [int(t - (first + k) * 1000) for k, t in enumerate(exact)]
    first, last = (int(np.floor(c + 0.5)) for c in (counts[0], counts[-1]))
    frames = np.arange(first, last + 1, dtype=np.float64)
    return frames, {name: np.interp(frames, counts, v) for name, v in columns.items()}, [0] * len(frames)


def _channels_from_columns(columns: dict, jaw_as_joint: bool, jaw_open_max, jaw_side_max) -> dict:
    """Our channels [T] from the ARKit columns (see `read_take`)."""
    from scipy.spatial.transform import Rotation  # lazy: import engine stays fast
    channels = {channel_name(n): v for n, v in columns.items() if n in ARKIT_BLENDSHAPES}
    if jaw_as_joint:
        zero = np.zeros_like(next(iter(columns.values())))
        channels["jaw_rx"] = channels.pop("jawOpen", zero) * jaw_open_max
        channels["jaw_ry"] = (channels.pop("jawLeft", zero) - channels.pop("jawRight", zero)) * jaw_side_max
    for prefix, joints in ROTATION_JOINTS:
        names = [f"{prefix}{angle}" for angle in ("Yaw", "Pitch", "Roll")]
        if all(n in columns for n in names):
            rotvec = Rotation.from_euler("YXZ", np.stack([columns[n] for n in names], axis=1)).as_rotvec()
            joint = joints[-1]
            channels.update({f"{joint}_r{a}": rotvec[:, i] for i, a in enumerate("xyz")})
    return channels
