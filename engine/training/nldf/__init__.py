"""The neural light field (NLDF) student and its distillation (torch): ray inputs (`rays`, tested against the
numpy reference `engine.render.rays`), the student (`model`), teacher frames and their cache (`data`), the
active pool (`pool`), the training steps (`trainers`, `distill`), ONNX export with sidecar (`export`).

    python -m engine.training.nldf distill --look toon --out runs/nldf_toon
    python -m engine.training.nldf export runs/nldf_toon/checkpoint.pt --out engine/models/nldf_toon
"""
