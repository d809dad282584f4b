"""Words of estimative probability follow the ICD 203 bands."""

from __future__ import annotations

import pytest

from escalate.report.estimative import estimative_phrase, estimative_range


@pytest.mark.parametrize(("probability", "phrase"), [
    (0.0, "almost no chance"), (0.01, "almost no chance"), (0.049, "almost no chance"),
    (0.05, "very unlikely"), (0.19, "very unlikely"), (0.20, "unlikely"), (0.44, "unlikely"),
    (0.45, "roughly even chance"), (0.5, "roughly even chance"), (0.55, "roughly even chance"),
    (0.56, "likely"), (0.80, "likely"), (0.81, "very likely"), (0.95, "very likely"),
    (0.951, "almost certain"), (1.0, "almost certain"),
])
def test_each_probability_gets_the_word_of_its_band(probability: float, phrase: str) -> None:
    assert estimative_phrase(probability) == phrase


def test_the_bands_are_symmetric_about_one_half() -> None:
    pairs = {"almost no chance": "almost certain", "very unlikely": "very likely",
             "unlikely": "likely", "roughly even chance": "roughly even chance"}
    for step in range(101):
        low, high = estimative_phrase(step / 100), estimative_phrase((100 - step) / 100)
        assert pairs.get(low, pairs.get(high)) in (low, high)


def test_an_interval_within_one_band_has_one_word_and_a_wider_one_a_span() -> None:
    assert estimative_range(0.25, 0.35) == "unlikely"
    assert estimative_range(0.15, 0.5) == "very unlikely to roughly even chance"


@pytest.mark.parametrize("probability", [-0.1, 1.2, float("nan")])
def test_a_value_outside_zero_one_is_refused(probability: float) -> None:
    with pytest.raises(ValueError, match="probability must be in"):
        estimative_phrase(probability)
