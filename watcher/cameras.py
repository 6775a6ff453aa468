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
