"""The neural light field (NLDF) student and its distillation (torch): the student (`model`, on the ray inputs
of `engine.training.rays`, which the NeRF teacher shares, tested against the numpy reference
`engine.render.rays`), teacher frames and their cache (`data`), the
active pool (`pool`), the training steps (`trainers`, `distill`), ONNX export with sidecar (`export`).

    python -m engine.training.nldf distill --look toon --out runs/nldf_toon
    python -m engine.training.nldf export runs/nldf_toon/checkpoint.pt --out engine/models/nldf_toon
"""
