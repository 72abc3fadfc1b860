"""``midi_synth``: importing this package registers the tensorflow-datasets builder ``midi_synth``.

:class:`Builder` (``midi_synth_dataset_builder.py``) is the ``tfds`` builder; :class:`MidiSynth`
(``midi_synth.py``) keeps the older streaming helper, whose ``train`` split renders songs on the fly without
end.
"""

from .midi_synth_dataset_builder import Builder, MidiSynthConfig  # noqa: F401
