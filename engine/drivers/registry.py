"""The drivers the engine knows, best first, and the one way to run one: `drive(name, request)`.

The table is declarations only (names, what each reads, the model file it
needs); nothing is looked up when this module is imported. Whether a driver
can run (its model file is found) is asked of the disk each time, with the
caller's models folder, and each driver's code is imported only when it runs
(pocketsphinx and onnxruntime load with the driver that uses them).
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from typing import Optional

import numpy as np

from ..errors import InputError
from .adf import MODEL_FILE as ADF_MODEL_FILE
from .interface import Driver, DriveRequest


def _adf(request: DriveRequest) -> dict:
    from .adf.driver import drive

    return drive(request)


def _phonetic(request: DriveRequest) -> dict:
    from .phonetic.driver import drive

    return drive(request)


def _energy(request: DriveRequest) -> dict:
    from .energy import drive

    return drive(request)


# How far each driver's mouth leads the sound by default (ms): real mouths shape a sound before it is
# heard. 60 ms gives both drivers the best lag-0 r over all 33 tracked real speakers (held-out alone: 80 ms,
# the training rows alone: 40-60 ms); README, Lip sync on real speech, "The mouth lead".
ADF_LEAD_MS = 60.0
PHONETIC_LEAD_MS = 60.0

# Best measured first: the default is the first that can run (see `default_driver`).
DRIVERS = (
    Driver("adf", "The audio-driven FLAME network: mouth, brows, smile and nods learnt from the voice, in "
                  "the speaking style (a reference clip's, read by its style encoder)",
           _adf, reads_style=True, reads_reference=True, model=ADF_MODEL_FILE, label="ADF network",
           lead_ms=ADF_LEAD_MS),
    Driver("phonetic", "Recognised (or, with a transcript, aligned) phones become coarticulated mouth "
                       "shapes; lips close on p, b, m", _phonetic, reads_transcript=True, reads_style=True,
           label="Phonetic", lead_ms=PHONETIC_LEAD_MS),
    Driver("energy", "Jaw and lips follow loudness and brightness (no phones, no network, no style)", _energy,
           label="Audio energy"),
)
DRIVER_NAMES = tuple(d.name for d in DRIVERS)


def driver_named(name: str) -> Driver:
    """The declaration of driver `name`; InputError naming the known ones when there is none."""
    for driver in DRIVERS:
        if driver.name == name:
            return driver
    raise InputError(f"Unknown driver '{name}'; choose one of: {', '.join(sorted(DRIVER_NAMES))}.")


def available_drivers(models_dir=None) -> dict[str, Driver]:
    """{name: Driver} of the drivers that can run now, best first ("adf" only where its model is found
    in `models_dir` or shipped); InputError when `models_dir` names no folder."""
    return {d.name: d for d in DRIVERS if d.available(models_dir)}


def default_driver(transcript: Optional[str] = None, models_dir=None) -> str:
    """The driver to use when none is named: with a transcript, the best that reads one (forced
    alignment is the most exact lip sync there is); else the best that can run."""
    drivers = list(available_drivers(models_dir).values())
    if transcript:
        drivers = [d for d in drivers if d.reads_transcript] or drivers
    return drivers[0].name


def runnable_driver(name: str, models_dir=None) -> Driver:
    """The declaration of `name` when it can run with `models_dir`; InputError that says why not."""
    driver = driver_named(name)
    if not driver.available(models_dir):
        others = ", ".join(sorted(available_drivers(models_dir)))
        raise InputError(f"The {name} driver needs its model {driver.model}, which is neither in the models "
                         f"folder nor installed; choose one of: {others}, or install the model.")
    return driver


def drive(name: str, request: DriveRequest) -> dict[str, np.ndarray]:
    """Run driver `name` on `request`: {channel: values [T] float32}, T = request.frame_count.

    A transcript, style or mouth lead the driver does not read is a UserWarning (the clip is still made);
    a request without a lead gets the driver's default one."""
    driver = runnable_driver(name, request.models_dir)
    for sentence in driver.unread(request):
        warnings.warn(sentence, UserWarning, stacklevel=2)
    if request.lead_ms is None and driver.reads_lead:
        request = replace(request, lead_ms=driver.lead_ms)
    return {channel: np.asarray(values, np.float32) for channel, values in driver.run(request).items()}
