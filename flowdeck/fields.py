"""Serializer fields that take the JSON type the schema names, and nothing DRF would coerce
into it: the API's bodies are JSON, and a client that sends ``0`` for a flag or ``true`` for a
percentage has a bug it should hear about (found by schemathesis: ``{"paused": 0.0}`` paused
nothing and answered 200)."""

from typing import Any

from rest_framework import serializers


class StrictBooleanField(serializers.BooleanField):
    """true or false. DRF's BooleanField also takes 0, 1, 0.0, "yes", "off", "1" and more."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class NumberField(serializers.FloatField):
    """A JSON number. DRF's FloatField also takes true and false (as 1.0 and 0.0)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)
