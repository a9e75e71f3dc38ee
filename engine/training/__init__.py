"""Training: the data the neural driver learns from, and (with torch) the learning itself.

    corpus/   the synthetic corpus: synthesized speech with the synthesizer's own
              phone timings, performance targets, speaking styles, augmentation
"""
