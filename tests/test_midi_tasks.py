"""Stem tasks: GM program families as data, partition vs fixed, and user-defined tasks."""

from __future__ import annotations

import pytest

from sepzoo.data.midi.stem_tasks import get_task, list_tasks, register_task
from sepzoo.errors import ConfigError


def test_midi4_partitions_every_instrument():
    task = get_task("midi4")
    assert task.sources == ("drums", "bass", "keys", "other") and task.mode == "partition"
    assert task.stem_index(0, is_drum=True) == 0
    assert [task.stem_index(p, False) for p in (32, 39)] == [1, 1]
    assert [task.stem_index(p, False) for p in (0, 7, 16, 23)] == [2, 2, 2, 2]
    assert [task.stem_index(p, False) for p in (24, 31, 40, 48, 80, 127)] == [3] * 6
    assert all(task.stem_index(p, False) is not None for p in range(128))


def test_fixed4_keeps_only_targets_and_needs_two():
    task = get_task("fixed4")
    assert task.sources == ("drums", "piano", "strings", "bass") and task.min_targets == 2
    assert task.stem_index(0, True) == 0 and task.stem_index(3, False) == 1
    assert task.stem_index(40, False) == task.stem_index(51, False) == 2 and task.stem_index(33, False) == 3
    assert [task.stem_index(p, False) for p in (8, 24, 52, 56, 80)] == [None] * 5


def test_a_user_task_in_one_call():
    task = register_task("brass_vs_rest", {"brass": [(56, 63)], "rest": "rest"})
    assert "brass_vs_rest" in list_tasks() and get_task("brass_vs_rest") is task
    assert task.stem_index(60, False) == 0 and task.stem_index(0, True) == 1 and task.stem_index(0, False) == 1


@pytest.mark.parametrize(
    ("sources", "mode", "words"),
    [
        ({"a": [(0, 10)], "b": [(10, 20)], "rest": "rest"}, "partition", "both"),
        ({"a": [(0, 10)]}, "partition", "rest"),
        ({"a": [(0, 10)], "rest": "rest"}, "fixed", "cannot be 'rest'"),
        ({"a": [(120, 130)], "rest": "rest"}, "partition", "outside 0-127"),
        ({"a": "drum", "rest": "rest"}, "partition", "not 'drums'"),
        ({"a": [(0, 1)], "rest": "rest"}, "layered", "unknown"),
    ],
)
def test_bad_tasks_are_one_line_config_errors(sources, mode, words):
    with pytest.raises(ConfigError, match=words) as caught:
        register_task("bad", sources, mode=mode)
    assert "\n" not in str(caught.value)
    assert "bad" not in list_tasks()


def test_unknown_task_names_the_known_ones():
    with pytest.raises(ConfigError, match="midi4"):
        get_task("midi5")
