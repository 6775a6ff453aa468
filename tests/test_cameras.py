"""Cameras in plain words wherever a person reads them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from watcher.cameras import CAMERA_NAMES, camera_name
from watcher.demo.records import INGENUITY_CAMERAS, PERSEVERANCE_CAMERAS

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "nasa"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("MCZ_LEFT", "Mastcam-Z left"),
        ("FRONT_HAZCAM_LEFT_A", "Front Hazcam left"),
        ("HELI_RTE", "Ingenuity colour camera"),
        ("navcam_right", "Navcam right"),
        ("SOME_NEW_CAM", "Some new cam"),
        ("Mast Camera", "Mast Camera"),
        ("", None),
        (None, None),
    ],
)
def test_a_camera_code_reads_as_plain_words(code: str | None, words: str | None) -> None:
    assert camera_name(code) == words


def test_every_camera_the_emulator_sends_has_plain_words() -> None:
    codes = {camera.instrument for camera in (*PERSEVERANCE_CAMERAS, *INGENUITY_CAMERAS)}
    assert codes <= set(CAMERA_NAMES), sorted(codes - set(CAMERA_NAMES))


def test_every_camera_in_the_recorded_answers_has_plain_words() -> None:
    if not FIXTURES.is_dir():
        pytest.skip(f"no recorded NASA answers at {FIXTURES}")
    codes = set()
    for path in FIXTURES.glob("*raw_images*.json"):
        for record in json.loads(path.read_text()).get("images", []):
            codes.add(record["camera"]["instrument"])
    assert codes and codes <= set(CAMERA_NAMES), sorted(codes - set(CAMERA_NAMES))
