"""Optional packages evaluation needs: the ``musdb`` extra (``museval``, ``musdb``) and the ``speech`` extra
(``pesq``, ``pystoi``)."""

from __future__ import annotations

import importlib
from types import ModuleType

from sepzoo.errors import ConfigError


def require(module_name: str, extra: str = "musdb") -> ModuleType:
    """Import ``module_name`` or raise a one-line error saying which extra installs it."""
    try:
        return importlib.import_module(module_name)
    except ImportError:
        raise ConfigError(f"{module_name}: not installed, evaluation needs it; "
                          f"run `pip install 'sepzoo[{extra}]'`") from None
