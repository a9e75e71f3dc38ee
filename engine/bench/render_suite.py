"""NLDF against the NeRF teacher, side by side on the same held-out frames (the NLDF issue's table).

For each installed look with a fitted NeRF teacher (runs/nerf_<look>/checkpoint.pt, or the
folder in TALKING_HEAD_NERF_RUNS), both render the same held-out parameters and cameras
at each size the look renders; both are scored against the mesh teacher's exact frames
(PSNR and SSIM on premultiplied RGBA, also on the mouth box alone), timed (ms per frame,
after a warm-up frame; NLDF best of three passes, the NeRF one) and their peak memory
measured in fresh processes. A picture puts mesh teacher, NeRF and NLDF frames side by side.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ..render.quality import rgba_psnr, rgba_ssim
from .report import Row

ROOT = Path(__file__).resolve().parents[2]
SIZES = (256, 512)
MOUTH_LANDMARKS = tuple(range(48, 68))
MEMORY_FRAMES = 3


def nerf_runs() -> Path:
    return Path(os.environ.get("TALKING_HEAD_NERF_RUNS", ROOT / "runs"))


def mouth_box(head, params: dict, camera, margin: float = 0.25) -> tuple:
    """(row0, row1, col0, col1) of the projected lip landmarks, grown by `margin` of its size."""
    from ..head.landmarks import landmarks

    vertices, _ = head.forward(expression=params["expression"][None], pose=params["pose"][None],
                               translation=params["translation"][None])
    order = {int(n): k for k, n in enumerate(head.landmark_embedding.ids)}
    points = landmarks(head, vertices)[0][[order[i] for i in MOUTH_LANDMARKS]]
    uv, _ = camera.project(points)
    (c0, r0), (c1, r1) = uv.min(axis=0), uv.max(axis=0)
    grow_r, grow_c = margin * (r1 - r0), margin * (c1 - c0)
    return (max(0, int(r0 - grow_r)), min(camera.height, int(np.ceil(r1 + grow_r))),
            max(0, int(c0 - grow_c)), min(camera.width, int(np.ceil(c1 + grow_c))))


def nldf_renderer(look):
    """(params, camera) -> straight-alpha RGBA float32 for an NLDF Look."""
    from ..nldf.condition import condition_vectors
    from ..nldf.render import render_frame
    from ..render.rays import head_transform

    def render(params, camera):
        transform = head_transform(look.head, params["pose"][None], params["translation"][None],
                                   params["expression"][None])[0]
        return render_frame(look, camera, transform, condition_vectors(params, look.head)[0])
    return render


def _timed(render, params, cameras, passes: int) -> tuple[list, float]:
    """(frames of the first pass, best mean ms per frame over `passes` passes), after one warm-up frame."""
    render(params[0], cameras[0])
    frames, best = [], float("inf")
    for k in range(passes):
        start = time.perf_counter()
        rendered = [render(p, c) for p, c in zip(params, cameras)]
        best = min(best, (time.perf_counter() - start) / len(params))
        frames = frames or rendered
    return frames, 1000.0 * best


def _peak_mb(kind: str, look: str, checkpoint: Path, size: int) -> float:
    """Peak RSS (MB) of a fresh process rendering MEMORY_FRAMES frames with one renderer."""
    script = (
        "import sys; from engine.bench.memory import peak_rss_kib; from engine.bench.render_suite import _memory_run; "
        "_memory_run(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])); print(peak_rss_kib())")
    done = subprocess.run([sys.executable, "-c", script, kind, look, str(checkpoint), str(size)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return float(done.stdout.split()[-1]) / 1024.0


def _memory_run(kind: str, look: str, checkpoint: str, size: int) -> None:
    """Render MEMORY_FRAMES frames (the jaw opening) with one renderer and nothing else in the process."""
    from ..head import load_head
    from ..head.model import JOINT_NAMES
    from ..render.camera import default_framing

    head = load_head()
    camera = default_framing(head.v_template, size)
    if kind == "nerf":
        from ..training.teachers.nerf import nerf_teacher
        render = nerf_teacher(checkpoint)
    else:
        from ..nldf import load_look
        render = nldf_renderer(load_look(look))
    for k in range(MEMORY_FRAMES):
        pose = np.zeros((len(JOINT_NAMES), 3), np.float32)
        pose[JOINT_NAMES.index("jaw"), 0] = 0.1 * k
        render({"expression": np.zeros(len(head.expression_names), np.float32), "pose": pose,
                "translation": np.zeros(3, np.float32)}, camera)


def nldf_vs_nerf(quick: bool, out: Path) -> list:
    """Rows for every installed look that has a fitted NeRF teacher; a note row otherwise."""
    from ..nldf import installed_looks, load_look

    rows = []
    for name in installed_looks() or ["(none)"]:
        checkpoint = nerf_runs() / f"nerf_{name}" / "checkpoint.pt"
        if name == "(none)" or not checkpoint.exists():
            rows.append(Row("NLDF vs NeRF", f"look '{name}'", 0.0, "",
                            note="needs an installed look and a NeRF teacher fitted to the same mesh-teacher "
                                 f"frames at {checkpoint}"))
            continue
        rows += _look_rows(load_look(name), checkpoint, quick, out)
    return rows


def _look_rows(look, checkpoint: Path, quick: bool, out: Path, sizes=SIZES) -> list:
    from ..preview import contact_sheet, write_png
    from ..training.teachers.nerf import nerf_teacher
    from ..training.teachers.nerf.evaluate import heldout_set

    nerf, nldf = nerf_teacher(checkpoint), nldf_renderer(look)
    sizes = [s for s in sizes if look.image_sizes == "any" or s in look.image_sizes] or list(look.image_sizes)[:1]
    rows, group = [], f"NLDF vs NeRF ('{look.name}')"
    for size in sizes[:1] if quick else sizes:
        held = heldout_set(look.name, 2 if quick else 6, size, head=look.head)
        passes = {"nerf": 1, "nldf": 1 if quick else 3}  # the NeRF's seconds per frame vary little
        timed = {kind: _timed(render, held.params, held.cameras, passes[kind])
                 for kind, render in (("nerf", nerf), ("nldf", nldf))}
        images = {kind: frames for kind, (frames, _) in timed.items()}
        boxes = [mouth_box(look.head, p, c) for p, c in zip(held.params, held.cameras)]
        score = {}
        for kind, rendered in images.items():
            mouth = [rgba_psnr(a[r0:r1, c0:c1], b[r0:r1, c0:c1])
                     for a, b, (r0, r1, c0, c1) in zip(rendered, held.frames, boxes)]
            score[kind] = {"psnr": np.mean([rgba_psnr(a, b) for a, b in zip(rendered, held.frames)]),
                           "ssim": np.mean([rgba_ssim(a, b) for a, b in zip(rendered, held.frames)]),
                           "mouth": np.mean(mouth), "ms": timed[kind][1]}
        n, s = score["nerf"], score["nldf"]
        label = f"{size}² ({len(held)} held-out frames)"
        rows += [
            Row(group, f"{label}: NLDF frames per second", 1000.0 / s["ms"], "fps", "NeRF teacher", 1000.0 / n["ms"],
                n["ms"] / s["ms"], target=">= 100x the NeRF; >= 25 fps at 256² on 2 cores"),
            Row(group, f"{label}: NLDF PSNR vs the mesh teacher", s["psnr"], "dB", "NeRF teacher", n["psnr"],
                None, target="no more than 1 dB below the NeRF", note=f"difference {s['psnr'] - n['psnr']:+.2f} dB"),
            Row(group, f"{label}: NLDF SSIM", s["ssim"], "", "NeRF teacher", n["ssim"], None),
            Row(group, f"{label}: NLDF PSNR on the mouth box", s["mouth"], "dB", "NeRF teacher", n["mouth"], None,
                note=f"difference {s['mouth'] - n['mouth']:+.2f} dB"),
        ]
        if not quick:
            memory = {kind: _peak_mb(kind, look.name, checkpoint, size) for kind in ("nerf", "nldf")}
            rows.append(Row(group, f"{label}: NLDF peak memory (fresh process)", memory["nldf"], "MB",
                            "NeRF teacher", memory["nerf"], None))
        cells = np.concatenate([held.frames[:4], np.stack(images["nerf"][:4]), np.stack(images["nldf"][:4])])
        labels = ["mesh teacher"] * min(4, len(held)) + ["NeRF"] * min(4, len(held)) + ["NLDF"] * min(4, len(held))
        write_png(out / f"nldf_vs_nerf_{look.name}_{size}.png", contact_sheet(cells, labels, columns=min(4, len(held))))
    return rows
