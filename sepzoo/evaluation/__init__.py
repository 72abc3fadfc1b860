"""SiSEC 2018-style evaluation of separation models with museval, beside reference methods on the same data; for
speech tasks also SI-SDR, wideband PESQ and STOI of the ``speech`` source beside the noisy input
(:mod:`sepzoo.evaluation.speech`).

```python
from sepzoo.evaluation import evaluate, markdown_table, model_estimator
result = evaluate("renders/test", [model_estimator("lightweight_aspp")], jobs=2)
print(markdown_table(result))
```
"""

from sepzoo.evaluation.plot import plot_sdr
from sepzoo.evaluation.report import markdown_table, write_json
from sepzoo.evaluation.results import Evaluation, TrackResult
from sepzoo.evaluation.references import REFERENCE_METHODS
from sepzoo.evaluation.runner import Estimator, evaluate, model_estimator
from sepzoo.evaluation.speech import speech_scores
from sepzoo.evaluation.tracks import open_test_set

__all__ = [
    "REFERENCE_METHODS",
    "Estimator",
    "Evaluation",
    "TrackResult",
    "evaluate",
    "markdown_table",
    "model_estimator",
    "open_test_set",
    "plot_sdr",
    "speech_scores",
    "write_json",
]
