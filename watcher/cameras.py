"""Camera facts: cameras in plain words, for everything a person reads (editor cards, the
public page), and which frames curation may take together (a camera's family, the eyes of
a stereo pair).

NASA's raw-image records name a camera by its instrument code (``MCZ_LEFT``,
``FRONT_HAZCAM_LEFT_A``, ``HELI_RTE``): the codes below are the instruments NASA's raw-image
gallery filters by for Perseverance and Ingenuity (``../shared/fixtures/nasa`` holds
``NAVCAM_RIGHT`` and ``HELI_NAV`` records). The code itself stays in the stored record, the
queue's filter values and the raw-record details; a code not in the table is shown tidied
("SOME_NEW_CAM" -> "Some new cam") rather than hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

CAMERA_NAMES = {
    # Perseverance: engineering cameras
    "NAVCAM_LEFT": "Navcam left",
    "NAVCAM_RIGHT": "Navcam right",
    "FRONT_HAZCAM_LEFT_A": "Front Hazcam left",
    "FRONT_HAZCAM_LEFT_B": "Front Hazcam left",
    "FRONT_HAZCAM_RIGHT_A": "Front Hazcam right",
    "FRONT_HAZCAM_RIGHT_B": "Front Hazcam right",
    "REAR_HAZCAM_LEFT": "Rear Hazcam left",
    "REAR_HAZCAM_RIGHT": "Rear Hazcam right",
    "CACHECAM": "CacheCam",
    # Perseverance: science cameras
    "MCZ_LEFT": "Mastcam-Z left",
    "MCZ_RIGHT": "Mastcam-Z right",
    "SUPERCAM_RMI": "SuperCam remote micro-imager",
    "SHERLOC_WATSON": "WATSON close-up camera",
    "SHERLOC_ACI": "SHERLOC context imager",
    "PIXL_MCC": "PIXL micro-context camera",
    "SKYCAM": "MEDA SkyCam",
    # Perseverance: entry, descent and landing
    "EDL_PUCAM1": "Parachute up-look camera A",
    "EDL_PUCAM2": "Parachute up-look camera B",
    "EDL_DDCAM": "Descent stage down-look camera",
    "EDL_RUCAM": "Rover up-look camera",
    "EDL_RDCAM": "Rover down-look camera",
    "LCAM": "Lander vision camera",
    # Ingenuity
    "HELI_NAV": "Ingenuity navigation camera",
    "HELI_RTE": "Ingenuity colour camera",
}


def camera_name(code: str | None) -> str | None:
    """``MCZ_LEFT`` -> "Mastcam-Z left"; None when there is no camera."""
    if not code or not code.strip():
        return None
    known = CAMERA_NAMES.get(code.strip().upper())
    if known is not None:
        return known
    words = " ".join(code.replace("_", " ").split())
    return words[:1].upper() + words[1:].lower() if words.isupper() else words


@dataclass(frozen=True, slots=True)
class Sensor:
    """What a camera's frames can be, for the curation score.

    ``colour``: a colour imaging camera (Mastcam-Z, WATSON, SuperCam's RMI, SkyCam, the
    descent cameras, Ingenuity's RTE); False for the engineering and greyscale cameras.
    Perseverance's engineering cameras have colour sensors but mostly send greyscale frames,
    so a frame's measured colourfulness, when known, has the last word. ``width`` and
    ``height``: the full frame in the sensor's pixels, the coordinates of NASA's
    ``subframeRect`` (a frame sent downsampled says so in ``scaleFactor``); None where the
    published figures do not settle it.
    """

    colour: bool
    width: int | None = None
    height: int | None = None


_ECAM = Sensor(colour=False, width=5120, height=3840)  # Perseverance's 20 MP engineering cameras
CAMERA_SENSORS = {
    "NAVCAM_LEFT": _ECAM,
    "NAVCAM_RIGHT": _ECAM,
    "FRONT_HAZCAM_LEFT_A": _ECAM,
    "FRONT_HAZCAM_LEFT_B": _ECAM,
    "FRONT_HAZCAM_RIGHT_A": _ECAM,
    "FRONT_HAZCAM_RIGHT_B": _ECAM,
    "REAR_HAZCAM_LEFT": _ECAM,
    "REAR_HAZCAM_RIGHT": _ECAM,
    "CACHECAM": _ECAM,
    "MCZ_LEFT": Sensor(colour=True, width=1648, height=1200),
    "MCZ_RIGHT": Sensor(colour=True, width=1648, height=1200),
    "SUPERCAM_RMI": Sensor(colour=True, width=2048, height=2048),
    "SHERLOC_WATSON": Sensor(colour=True, width=1648, height=1200),
    "SHERLOC_ACI": Sensor(colour=False, width=1648, height=1200),
    "PIXL_MCC": Sensor(colour=False),
    "SKYCAM": Sensor(colour=True),
    "EDL_PUCAM1": Sensor(colour=True),
    "EDL_PUCAM2": Sensor(colour=True),
    "EDL_DDCAM": Sensor(colour=True),
    "EDL_RUCAM": Sensor(colour=True),
    "EDL_RDCAM": Sensor(colour=True),
    "LCAM": Sensor(colour=False, width=1024, height=1024),
    "HELI_NAV": Sensor(colour=False, width=640, height=480),
    "HELI_RTE": Sensor(colour=True, width=4208, height=3120),
}


def camera_sensor(code: str | None) -> Sensor | None:
    """``MCZ_LEFT`` -> a colour camera of 1648 x 1200; None for no camera or one not known."""
    if not code or not code.strip():
        return None
    return CAMERA_SENSORS.get(code.strip().upper())


# What curation needs to know of a camera: which frames may be near-duplicates (one
# family: both eyes of a stereo pair, both electronics sides of a Hazcam) and which
# two frames are the eyes of one stereo exposure.
_EYES = {"LEFT": "left", "RIGHT": "right"}
_SIDES = frozenset({"A", "B"})
# A Perseverance image id starts with the instrument (``NL`` Navcam left, ``ZR`` Mastcam-Z
# right, ``FL`` front Hazcam left); its second letter is the eye.
_ID_EYES = {"L": "left", "R": "right"}


def camera_family(code: str | None) -> str | None:
    """The camera a code names, eye and electronics side aside: ``NAVCAM_LEFT`` ->
    ``NAVCAM``, ``FRONT_HAZCAM_RIGHT_B`` -> ``FRONT_HAZCAM``, ``HELI_RTE`` -> ``HELI_RTE``
    (a rule on the code's words, so a camera NASA adds later gets a family too)."""
    words = (code or "").strip().upper().replace(" ", "_").split("_")
    words = [word for word in words if word]
    if len(words) > 1 and words[-1] in _SIDES and any(word in _EYES for word in words):
        words = words[:-1]
    kept = [word for word in words if word not in _EYES]
    return "_".join(kept) or None


def camera_eye(code: str | None) -> str | None:
    """``left`` or ``right`` for one eye of a stereo camera, None for a single camera."""
    words = (code or "").strip().upper().replace(" ", "_").split("_")
    eyes = {_EYES[word] for word in words if word in _EYES}
    return eyes.pop() if len(eyes) == 1 else None


def stereo_pair(code: str | None, imageid: str) -> str | None:
    """What the two eyes of one stereo exposure share: the camera family and the image id
    without its eye letter. NASA names both eyes' frames of an exposure alike but for that
    letter (``NLF_1965_0841393386_816ECM_…`` and ``NRF_1965_0841393386_816ECM_…``: same sol,
    spacecraft clock, sequence and tile). None when the frame is not one eye of a pair or
    its id does not carry the eye the camera code names."""
    eye, family = camera_eye(code), camera_family(code)
    imageid = imageid.strip()
    if eye is None or family is None or len(imageid) < 3 or _ID_EYES.get(imageid[1].upper()) != eye:
        return None
    return f"{family}:{imageid[0]}*{imageid[2:]}"
