"""Thresholds and choices the rules read from the config's ``[rules]`` table."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RuleParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
