"""Teach new gestures: a head fitted on the base model's backbone features, and the base's reference features."""

from __future__ import annotations

from realtime.teaching.reference import Reference, ReferenceFileError
from realtime.teaching.teach import MIN_IMAGES, TeachResult, teach

__all__ = ["MIN_IMAGES", "Reference", "ReferenceFileError", "TeachResult", "teach"]
