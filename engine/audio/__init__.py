"""Speech in: decoding any audio file to mono float32 at the analysis rate, and its features."""

from .features import FeatureConfig, Features, compute_features, features_of, normalize_features
from .load import ANALYSIS_RATE, AUDIO_SUFFIXES, Audio, audio_from_array, load_audio
from .stream import stream_audio
