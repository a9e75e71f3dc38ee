"""FLAME-structured heads: the model, skinning, the built-in head, FLAME files, landmarks."""

from .model import JOINT_NAMES, PARENTS, HeadModel, LandmarkEmbedding
from .loader import load_head, load_landmark_embedding, save_head_npz
