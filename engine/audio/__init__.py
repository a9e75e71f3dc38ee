"""Speech in: decoding any audio file to mono float32 at the analysis rate."""

from .load import ANALYSIS_RATE, Audio, audio_from_array, load_audio
