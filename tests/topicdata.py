"""Small labelled headline sets written for the classifier tests (no third-party text)."""

from __future__ import annotations

import random

PLACES = ["Mosul", "Raqqa", "Idlib", "Kirkuk", "Deir ez-Zor", "Tikrit", "Hasakah", "Anbar", "Sinjar", "Baiji"]
ACTORS = ["militants", "fighters", "insurgents", "commanders", "gunmen", "a convoy", "a weapons depot"]
DRONE = [
    "Drone strike kills {n} {actor} near {place}",
    "Armed drones hit {actor} outside {place}",
    "UAV strike targets {actor} in {place} overnight",
    "Coalition drone attack on {actor} in {place} leaves {n} dead",
    "Kamikaze drones struck {actor} east of {place}",
    "Airstrike by unmanned aircraft kills {actor} in {place}",
]
OTHER = [
    "{place} football club wins the regional cup final {n}-1",
    "Oil prices rise as markets rally in {place} trading",
    "New hospital opens in {place} with {n} beds",
    "Farmers in {place} expect a record wheat harvest",
    "Delivery drones approved for parcel service in {place}",
    "Drone light show dazzles crowds at {place} festival",
    "University of {place} hosts a science fair for {n} schools",
    "Elections in {place}: turnout reaches {n} percent",
]


def headlines(templates: list[str], count: int, seed: int) -> list[str]:
    """count different headlines from templates, deterministic for a seed."""
    rng = random.Random(seed)
    out: list[str] = []
    while len(out) < count:
        text = rng.choice(templates).format(n=rng.randint(2, 40), actor=rng.choice(ACTORS), place=rng.choice(PLACES))
        if text not in out:
            out.append(text)
    return out


def drone_set(count: int = 40, seed: int = 1) -> tuple[list[str], list[str]]:
    """(positive, negative) headlines for a 'drone strikes' topic."""
    return headlines(DRONE, count, seed), headlines(OTHER, count, seed + 100)


DRONE_RULE = '''name = "Drone strikes"
description = "Attacks by armed drones"
query = "(drone* OR UAV OR unmanned) NEAR/4 (strike* OR attack* OR hit OR struck OR kills)"
'''


def rule_file(mode: str, min_labels: int = 5, extra: str = "") -> str:
    """The drone rule file with a [classifier] section."""
    return DRONE_RULE + f'\n[classifier]\nmode = "{mode}"\nmin_labels = {min_labels}\n{extra}'
