"""Teach new gestures: a head fitted on the base model's backbone features, and the base's reference features."""

from __future__ import annotations

from realtime.teaching.teach import MIN_IMAGES, TeachResult, teach
from realtime.teaching.reference import Reference, ReferenceFileError

__all__ = ["MIN_IMAGES", "Reference", "ReferenceFileError", "TeachResult", "teach"]
