"""Training: the data the neural driver learns from, and (with torch) the learning itself.

    corpus/   the synthetic corpus: synthesized speech with the synthesizer's own
              phone timings, performance targets, speaking styles, augmentation
    teachers/ functions (parameters, camera) -> RGBA that make the light field's
              training frames: the mesh style teacher in a "toon" or "clay" look,
              and the NeRF teacher (teachers/nerf), a dynamic radiance field
              fitted to frames of a look or of a tracked video
    nldf/     the neural light field student: its ray inputs in torch, the network,
              distillation from a teacher with the active pool, ONNX export
    distributed.py  ADF training and NLDF distillation under torchrun (DDP): each
              process trains on its slice of every batch, rank 0 writes the files
"""
