"""Cameras in plain words, for everything a person reads (editor cards, the public page).

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
