"""Zoo model classes."""

from sepzoo.models.base import SeparationModel
from sepzoo.models.lightweight_aspp import LightweightASPP

__all__ = ["SeparationModel", "LightweightASPP"]
