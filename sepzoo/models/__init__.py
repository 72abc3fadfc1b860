"""Zoo model classes.

Every module of this package is imported here, so a model is added by adding its files
(``<model>.py`` with a :func:`~sepzoo.models.base.register_model` class, ``<model>_presets.py``, and
``tests/test_<model>.py``), with no edit to a shared file. Model classes are reachable as attributes of this
package (``sepzoo.models.LightweightASPP``) and through :func:`model_classes`.
"""

import importlib
import pkgutil

from sepzoo.models.base import SeparationModel, model_classes, register_model, registered_presets

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def __getattr__(name):
    classes = model_classes()
    if name in classes:
        return classes[name]
    raise AttributeError(f"module 'sepzoo.models' has no attribute {name!r}")


__all__ = ["SeparationModel", "model_classes", "register_model", "registered_presets"]
