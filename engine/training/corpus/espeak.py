"""espeak-ng through its C library: speech and the synthesizer's own phone timings.

libespeak-ng runs in synchronous retrieval mode with phoneme events on: its
callback receives the samples and, for every phoneme it speaks, an event
carrying the mnemonic and the sample where the phoneme starts. The phones
come from those events, never from recognition. The library is process
global, so each process initialises it once; the corpus synthesizes in
worker processes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass

import numpy as np

from ...audio.load import ANALYSIS_RATE, Audio, resample
from ...errors import EngineError, InputError
from ...drivers.phonetic.phones import SILENCE, Phone, clean_phones
from .espeak_phones import arpabet_for, is_pause

LIBRARY_NAMES = ("libespeak-ng.so.1", "libespeak-ng.so")
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_DONT_EXIT = 0x8000  # report a missing data folder instead of exiting the process
POS_CHARACTER = 1
CHARS_UTF8 = 1
EVENT_LIST_TERMINATED = 0
EVENT_PHONEME = 7
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE = 1, 2, 3, 4
RATE_LIMITS = (80, 450)    # words per minute, as espeak-ng accepts
PITCH_LIMITS = (0, 100)    # base pitch and pitch range, 50 = the voice's normal
INT16_SCALE = 32768.0
CLOSURE_LEVEL = 100        # int16 magnitude below which espeak's output is a stop closure (-50 dBFS)
MAX_CLOSURE = 0.12         # seconds of closure a stop may claim from the phone before it
STOPS = ("P", "B", "T", "D", "K", "G", "CH", "JH")


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT of speak_lib.h (API revision 12)."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _EventId)]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakSpeech:
    """Raw synthesizer output: samples [N] int16 at `rate` Hz, and (mnemonic, start sample)
    for every phoneme event, in order (pauses are mnemonics starting with '_')."""

    samples: np.ndarray
    rate: int
    events: list


class _Engine:
    """The process's one initialised libespeak-ng, with the callback that collects output."""

    def __init__(self) -> None:
        self.lib = _load_library()
        self.rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                               INITIALIZE_PHONEME_EVENTS | INITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise EngineError("espeak-ng could not start (its data folder is missing); reinstall espeak-ng-data.")
        self._chunks: list = []
        self._events: list = []
        self._callback = _Callback(self._collect)  # kept referenced: the C library calls it
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lock = threading.Lock()

    def _collect(self, wav, count, events) -> int:
        if wav and count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, (count,)).copy())
        k = 0
        while events[k].type != EVENT_LIST_TERMINATED:
            if events[k].type == EVENT_PHONEME:
                name = bytes(events[k].id.string).split(b"\0")[0].decode("utf-8", "replace")
                self._events.append((name, int(events[k].sample)))
            k += 1
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> EspeakSpeech:
        """Synthesize `text`; the samples and the phoneme events of this call only."""
        with self.lock:
            self._set_voice(voice)
            for parameter, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range)):
                self.lib.espeak_SetParameter(parameter, int(value), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8")
            if self.lib.espeak_Synth(data, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None) != 0:
                raise EngineError(f"espeak-ng failed to synthesize the text {text[:40]!r}.")
            self.lib.espeak_Synchronize()
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return EspeakSpeech(samples, self.rate, list(self._events))

    def _set_voice(self, voice: str) -> None:
        if self.lib.espeak_SetVoiceByName(voice.encode("utf-8")) != 0:
            raise InputError(f"espeak-ng has no voice '{voice}'; list them with 'espeak-ng --voices=en'.")


_ENGINE: _Engine | None = None


def _load_library() -> ctypes.CDLL:
    for name in LIBRARY_NAMES + (ctypes.util.find_library("espeak-ng") or "",):
        try:
            lib = ctypes.CDLL(name) if name else None
        except OSError:
            continue
        if lib is not None:
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                         ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
            return lib
    raise EngineError("The espeak-ng library is not installed; install it with 'apt-get install espeak-ng'.")


def engine() -> _Engine:
    """This process's libespeak-ng, initialised on first use."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def speak(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, pitch_range: int = 50) -> EspeakSpeech:
    """Raw espeak-ng output for `text` (see EspeakSpeech). `voice` is a voice name with an
    optional variant ("en-us+f3"); rate in words per minute, pitch and range 0..100."""
    _check_range("rate", rate, RATE_LIMITS)
    _check_range("pitch", pitch, PITCH_LIMITS)
    _check_range("pitch range", pitch_range, PITCH_LIMITS)
    if not text.strip():
        raise InputError("The text to synthesize is empty; give at least one word.")
    return engine().speak(text, voice, rate, pitch, pitch_range)


def phones_from_events(events, num_samples: int, rate: int) -> list[Phone]:
    """Phones from (mnemonic, start sample) events: each phoneme lasts until the next event,
    the last until `num_samples`; leading audio and pauses are SIL. A mnemonic that maps to
    several ARPAbet phones (espeak's "@L" = AH L) splits its span evenly; one that maps to
    none (the linking ";") lengthens the phone before it."""
    bounds = [start for _, start in events] + [num_samples]
    phones = [Phone(SILENCE, 0.0, bounds[0] / rate)]
    for (name, start), end in zip(events, bounds[1:]):
        labels = arpabet_for(name)
        if labels:
            edges = np.linspace(start, max(start, end), len(labels) + 1) / rate
            phones.extend(Phone(label, float(a), float(b)) for label, a, b in zip(labels, edges[:-1], edges[1:]))
        else:
            phones[-1] = Phone(phones[-1].label, phones[-1].start, max(start, end) / rate)
    return clean_phones(phones)


def with_closures(events, samples: np.ndarray, rate: int) -> list:
    """Events with each stop's start moved back over its closure.

    espeak-ng marks a stop (and affricate) where its burst begins; the silent
    closure before it (lips or tongue shut) lands at the end of the phone
    before. A stop after a spoken phone claims the silent samples [N] int16
    that end at its marker, up to MAX_CLOSURE seconds.
    """
    out = list(events)
    for k in range(1, len(out)):
        name, start = out[k]
        previous_name, previous_start = out[k - 1]
        if is_pause(previous_name) or not set(arpabet_for(name)[:1]) & set(STOPS):
            continue
        floor = max(previous_start + 1, start - int(MAX_CLOSURE * rate))
        loud = np.flatnonzero(np.abs(samples[floor:start].astype(np.int32)) > CLOSURE_LEVEL)
        out[k] = (name, floor + int(loud[-1]) + 1 if loud.size else floor)
    return out


def synthesize_espeak(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50,
                      pitch_range: int = 50, target_rate: int = ANALYSIS_RATE) -> tuple[Audio, list[Phone]]:
    """Speech for `text` and its phones with espeak-ng's own timings.

    Returns Audio (samples [N] float32 at `target_rate`) and phones covering
    [0, N / target_rate] seconds. Arguments as `speak`.
    """
    speech = speak(text, voice, rate, pitch, pitch_range)
    samples = resample(speech.samples.astype(np.float32) / INT16_SCALE, speech.rate, target_rate)
    events = with_closures(speech.events, speech.samples, speech.rate)
    phones = phones_from_events(events, speech.samples.shape[0], speech.rate)
    return Audio(samples, target_rate, f"espeak-ng:{voice}"), _fit(phones, samples.shape[0] / target_rate)


def _fit(phones: list[Phone], duration: float) -> list[Phone]:
    """Phones whose last end is exactly `duration` (resampling rounds the length by a sample)."""
    if phones:
        phones[-1] = Phone(phones[-1].label, phones[-1].start, duration)
    return phones


def _check_range(name: str, value, limits) -> None:
    low, high = limits
    if not low <= value <= high:
        raise InputError(f"The espeak-ng {name} must be between {low} and {high}, not {value}.")
