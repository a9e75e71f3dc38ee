"""MediaPipe Face Mesh's point numbers for the parts the fit and the overlay use.

"Right" is the subject's right (image left in a frontal video), as in MediaPipe
and in the head's ARKit names. Contours run from one corner to the other.
"""

from __future__ import annotations

NUM_POINTS = 478
LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 10)
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2)
RIGHT_BROW = (70, 63, 105, 66, 107)
LEFT_BROW = (300, 293, 334, 296, 336)
RIGHT_IRIS = (468, 469, 470, 471, 472)   # centre first
LEFT_IRIS = (473, 474, 475, 476, 477)
IRIS_CENTRES = (RIGHT_IRIS[0], LEFT_IRIS[0])
MOUTH_CORNERS = (61, 291)
INNER_LIP_MIDDLE = (13, 14)              # upper, lower: MediaPipe's own inner-lip aperture
EYE_OUTER_CORNERS = (33, 263)            # inter-ocular distance (the error's unit)
CONTOURS = (LIPS_UPPER_INNER, LIPS_LOWER_INNER, LIPS_UPPER_OUTER, LIPS_LOWER_OUTER, RIGHT_EYE_UPPER,
            RIGHT_EYE_LOWER, LEFT_EYE_UPPER, LEFT_EYE_LOWER, FACE_OVAL, NOSE_BRIDGE, RIGHT_BROW, LEFT_BROW)
SLIT_POINTS = set(LIPS_UPPER_INNER + LIPS_LOWER_INNER + RIGHT_EYE_UPPER + RIGHT_EYE_LOWER
                  + LEFT_EYE_UPPER + LEFT_EYE_LOWER)
