"""The NeRF teacher: a dynamic radiance field of the head, conditioned on its parameters (ER-NeRF / RAD-NeRF class).

    fit_nerf(frames, params, cameras, NeRFConfig(...), out) -> out/checkpoint.pt
    nerf_teacher(out / "checkpoint.pt")(params, camera) -> RGBA [H, W, 4] float32, straight alpha

It is the slow, many-samples-per-ray reference the neural light field
student is distilled from and measured against, and the way a real person
enters the project: fit it to tracked video frames (RGBA, head parameters,
cameras), then render as many teacher frames as the student needs. Fitted
to mesh-teacher frames (`make_teacher_set`) it stands in for that video.

Recipe, per frame:
1. rays of the camera move into the head's canonical frame by the inverse of
   its rigid pose and are clipped to `HEAD_BOX` (frames.py, through
   `engine.training.rays`);
2. stratified samples along each light segment, then an importance pass
   (volume.py);
3. the field: a multi-resolution tri-plane and small MLPs, the expression,
   jaw and eyes gating in through region attention -> density, RGB (field.py);
4. alpha compositing -> premultiplied colour and opacity; rays that miss the
   box are transparent (volume.py, render.py).
"""

from .config import NeRFConfig
from .field import HeadField, code_size, condition_code
from .fit import fit_nerf, load_field
from .frames import FrameRays, RayTable, frame_rays, premultiplied, ray_table
from .quality import rgba_psnr
from .render import NeRFTeacher, nerf_teacher, render_canonical, render_nerf
from .teacher_set import TeacherSet, make_teacher_set

__all__ = ["FrameRays", "HeadField", "NeRFConfig", "NeRFTeacher", "RayTable", "TeacherSet", "code_size",
           "condition_code", "fit_nerf", "frame_rays", "load_field", "make_teacher_set", "nerf_teacher",
           "premultiplied", "ray_table", "render_canonical", "render_nerf", "rgba_psnr"]
