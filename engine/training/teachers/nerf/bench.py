"""NLDF against the NeRF teacher, side by side on the same held-out frames (the NLDF issue's table).

For each installed look, its NeRF teacher is the long fit in runs/nerf_<look>/checkpoint.pt (or the
folder in TALKING_HEAD_NERF_RUNS) when there is one; otherwise (a fresh clone) the bench fits a short
one itself (`SHORT_FIT`: mesh-teacher frames of the look, the training seed the held-out frames are
kept from) into runs/nerf_<look>_bench/, reused by later runs, and the table's rows name it with its
frames, steps and fitting time. Both render the same held-out parameters and cameras at each size the
look renders; both are scored against the mesh teacher's exact frames (PSNR and SSIM on premultiplied
RGBA, also on the mouth box alone), timed (ms per frame, after a warm-up frame; NLDF best of three
passes, the NeRF one) and their peak memory measured in fresh processes. A picture puts mesh teacher,
NeRF and NLDF frames side by side. Needs torch (the training extra).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ....bench.render_suite import mouth_box, nldf_renderer, timed
from ....bench.report import Row
from ....render.quality import rgba_psnr, rgba_ssim

ROOT = Path(__file__).resolve().parents[4]
SIZES = (256, 512)
MEMORY_FRAMES = 3
# the bench's own teacher when no long fit exists: (frames, size, steps) for full and quick runs
SHORT_FIT = {False: (300, 128, 400), True: (40, 128, 100)}
SHORT_CONFIG = {"threads": 2}
SHORT_DRIVER = "phonetic"  # the speech driver of the motion, as for the held-out frames (`heldout_set`)


def nerf_runs() -> Path:
    return Path(os.environ.get("TALKING_HEAD_NERF_RUNS", ROOT / "runs"))


def teacher_checkpoint(look: str, quick: bool, head=None) -> tuple:
    """(checkpoint path, the teacher's name in the table) for `look`: the long fit when there is one, else the
    bench's short fit, made now (and kept beside the long fits) when missing."""
    long_fit = nerf_runs() / f"nerf_{look}" / "checkpoint.pt"
    if long_fit.exists():
        return long_fit, "NeRF teacher"
    kinds = [False] if not quick else [False, True]  # a quick run takes a full short fit already there
    for kind in kinds:
        folder = nerf_runs() / f"nerf_{look}_bench{'_quick' if kind else ''}"
        if (folder / "fit.json").exists() and (folder / "checkpoint.pt").exists():
            return folder / "checkpoint.pt", short_fit_name(json.loads((folder / "fit.json").read_text()))
    return short_fit(look, quick, nerf_runs() / f"nerf_{look}_bench{'_quick' if quick else ''}", head)


def short_fit(look: str, quick: bool, folder: Path, head=None) -> tuple:
    """Fit the bench's short NeRF teacher of `look` into folder (checkpoint.pt, fit.json); (path, name)."""
    from ....head import load_head
    from .config import NeRFConfig
    from .fit import fit_nerf
    from .teacher_set import make_teacher_set

    head = head or load_head()
    frames, size, steps = SHORT_FIT[quick]
    start = time.perf_counter()
    train = make_teacher_set(look, frames, size, 0, head, SHORT_DRIVER)
    checkpoint = fit_nerf(train.frames, train.params, train.cameras, NeRFConfig(steps=steps, **SHORT_CONFIG),
                          folder, head=head)
    record = {"look": look, "frames": frames, "size": size, "steps": steps, "seconds": time.perf_counter() - start,
              "command": f"python -m engine.training.teachers nerf-fit --look {look} --frames {frames} --size {size} "
                         f"--steps {steps} --threads {SHORT_CONFIG['threads']} --driver {SHORT_DRIVER} --out {folder}"}
    (folder / "fit.json").write_text(json.dumps(record, indent=1))
    return checkpoint, short_fit_name(record)


def short_fit_name(record: dict) -> str:
    return (f"NeRF teacher (the bench's short fit: {record['frames']} frames at {record['size']}², "
            f"{record['steps']} steps, {record['seconds'] / 60:.1f} min with its frames)")


def _peak_mb(kind: str, look: str, checkpoint: Path, size: int) -> float:
    """Peak RSS (MB) of a fresh process rendering MEMORY_FRAMES frames with one renderer."""
    script = (
        "import sys; from engine.bench.memory import peak_rss_kib; from engine.training.teachers.nerf.bench import _memory_run; "
        "_memory_run(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])); print(peak_rss_kib())")
    done = subprocess.run([sys.executable, "-c", script, kind, look, str(checkpoint), str(size)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return float(done.stdout.split()[-1]) / 1024.0


def _memory_run(kind: str, look: str, checkpoint: str, size: int) -> None:
    """Render MEMORY_FRAMES frames (the jaw opening) with one renderer and nothing else in the process."""
    from ....head import load_head
    from ....head.model import JOINT_NAMES
    from ....render.camera import default_framing

    head = load_head()
    camera = default_framing(head.v_template, size)
    if kind == "nerf":
        from .render import nerf_teacher
        render = nerf_teacher(checkpoint)
    else:
        from ....nldf import load_look
        render = nldf_renderer(load_look(look))
    for k in range(MEMORY_FRAMES):
        pose = np.zeros((len(JOINT_NAMES), 3), np.float32)
        pose[JOINT_NAMES.index("jaw"), 0] = 0.1 * k
        render({"expression": np.zeros(len(head.expression_names), np.float32), "pose": pose,
                "translation": np.zeros(3, np.float32)}, camera)


def nldf_vs_nerf(quick: bool, out: Path) -> list:
    """Rows for every installed look against its NeRF teacher (`teacher_checkpoint`); a note row without looks."""
    from ....nldf import installed_looks, load_look

    rows = []
    for name in installed_looks():
        look = load_look(name)
        checkpoint, teacher = teacher_checkpoint(name, quick, look.head)
        rows += _look_rows(look, checkpoint, quick, out, teacher=teacher)
    return rows or [Row("NLDF vs NeRF", "no look", 0.0, "", note="needs an installed look")]


def _look_rows(look, checkpoint: Path, quick: bool, out: Path, sizes=SIZES, teacher: str = "NeRF teacher") -> list:
    from ....preview import contact_sheet, write_png
    from .evaluate import heldout_set
    from .render import nerf_teacher

    nerf, nldf = nerf_teacher(checkpoint), nldf_renderer(look)
    sizes = [s for s in sizes if look.image_sizes == "any" or s in look.image_sizes] or list(look.image_sizes)[:1]
    rows, group = [], f"NLDF vs NeRF ('{look.name}')"
    for size in sizes[:1] if quick else sizes:
        held = heldout_set(look.name, 2 if quick else 6, size, head=look.head)
        passes = {"nerf": 1, "nldf": 1 if quick else 3}  # the NeRF's seconds per frame vary little
        measured = {kind: timed(render, held.params, held.cameras, passes[kind])
                    for kind, render in (("nerf", nerf), ("nldf", nldf))}
        images = {kind: frames for kind, (frames, _) in measured.items()}
        boxes = [mouth_box(look.head, p, c) for p, c in zip(held.params, held.cameras)]
        score = {}
        for kind, rendered in images.items():
            mouth = [rgba_psnr(a[r0:r1, c0:c1], b[r0:r1, c0:c1])
                     for a, b, (r0, r1, c0, c1) in zip(rendered, held.frames, boxes)]
            score[kind] = {"psnr": np.mean([rgba_psnr(a, b) for a, b in zip(rendered, held.frames)]),
                           "ssim": np.mean([rgba_ssim(a, b) for a, b in zip(rendered, held.frames)]),
                           "mouth": np.mean(mouth), "ms": measured[kind][1]}
        n, s = score["nerf"], score["nldf"]
        label = f"{size}² ({len(held)} held-out frames)"
        rows += [
            Row(group, f"{label}: NLDF frames per second", 1000.0 / s["ms"], "fps", teacher, 1000.0 / n["ms"],
                n["ms"] / s["ms"], target=">= 100x the NeRF; >= 25 fps at 256² on 2 cores"),
            Row(group, f"{label}: NLDF PSNR vs the mesh teacher", s["psnr"], "dB", teacher, n["psnr"],
                None, target="no more than 1 dB below the NeRF", note=f"difference {s['psnr'] - n['psnr']:+.2f} dB"),
            Row(group, f"{label}: NLDF SSIM", s["ssim"], "", teacher, n["ssim"], None),
            Row(group, f"{label}: NLDF PSNR on the mouth box", s["mouth"], "dB", teacher, n["mouth"], None,
                note=f"difference {s['mouth'] - n['mouth']:+.2f} dB"),
        ]
        if not quick:
            memory = {kind: _peak_mb(kind, look.name, checkpoint, size) for kind in ("nerf", "nldf")}
            rows.append(Row(group, f"{label}: NLDF peak memory (fresh process)", memory["nldf"], "MB",
                            teacher, memory["nerf"], None))
        cells = np.concatenate([held.frames[:4], np.stack(images["nerf"][:4]), np.stack(images["nldf"][:4])])
        labels = ["mesh teacher"] * min(4, len(held)) + ["NeRF"] * min(4, len(held)) + ["NLDF"] * min(4, len(held))
        write_png(out / f"nldf_vs_nerf_{look.name}_{size}.png", contact_sheet(cells, labels, columns=min(4, len(held))))
    return rows
