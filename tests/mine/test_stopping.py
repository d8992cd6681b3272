import numpy as np
import pytest

from deepmath.mine.stopping import selection_overlap, should_stop


def test_overlap_is_the_share_of_the_new_selection_already_selected():
    previous = np.array([1, 1, 1, 1, 0, 0], bool)
    current = np.array([1, 1, 1, 0, 1, 0], bool)
    assert selection_overlap(current, previous) == pytest.approx(3 / 4)
    assert selection_overlap(np.zeros(6, bool), previous) is None


@pytest.mark.parametrize(
    ("overlap", "threshold", "stop"),
    [(0.99, 0.98, True), (0.98, 0.98, True), (0.97, 0.98, False), (None, 0.98, True), (0.5, 0.5, True)],
)
def test_should_stop(overlap, threshold, stop):
    assert should_stop(overlap, threshold) is stop


def test_paper_example_stops_when_98_percent_is_old():
    previous = np.zeros(1000, bool)
    previous[:500] = True
    current = np.zeros(1000, bool)
    current[:490] = True
    current[500:510] = True  # 10 new pages of 500 selected
    assert should_stop(selection_overlap(current, previous), 0.98)
    current[500:520] = True  # 20 new of 510
    assert not should_stop(selection_overlap(current, previous), 0.98)


def test_different_pools_are_refused():
    with pytest.raises(ValueError, match="different pools"):
        selection_overlap(np.zeros(3, bool), np.zeros(4, bool))
