"""The phonetic driver: phones (recognised or known) -> visemes -> coarticulated head motion.

    phones.py          Phone, the ARPAbet set
    visemes.py         what each phone asks of the mouth
    coarticulation.py  dominance blending + lip closure on p/b/m, lip to teeth on f/v
    performance.py     perform(): phones + voice -> MotionClip (shared with the corpus)
    recognize.py       pocketsphinx phone recognition and forced alignment
    driver.py          drive(request): the "phonetic" driver (see ../registry.py)

Brows, nods, blinks, gaze and sway come from ../procedural.py, shared with the other drivers.
"""

from .coarticulation import articulate
from .performance import perform, performance_channels
from .phones import PHONE_SET, Phone, clean_phones

__all__ = ["Phone", "PHONE_SET", "articulate", "clean_phones", "perform", "performance_channels"]
