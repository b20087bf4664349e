"""A measured fix for Rasa 3.6's hottest path, applied in the Rasa server process.

Rasa validates every action server response with `jsonschema.validate`, which first checks the
(constant) schema itself against the JSON Schema meta-schema — on every call. Profiling the
server under load put about 40% of a conversation turn there (bench/latency.py). The
replacement checks the schema once and validates each response with the same validator class,
so responses are checked exactly as before.

Imported by `welcomebot.nlu_components`, which Rasa loads with the model.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Text

import jsonschema
from jsonschema.exceptions import best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_validator: Optional[Any] = None


def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
    global _validator
    if _validator is None:
        schema = self.action_response_format_spec()
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _validator = cls(schema)
    error = best_match(_validator.iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def apply() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    # The other fix this project applies to the Rasa process (its own module): see rasa_lock.
    from . import rasa_lock

    rasa_lock.apply()
