"""Unknown keys in nested configuration dicts, reported with their dotted path and a suggestion.

pydantic's own message for `extra="forbid"` names the key but not the nearest valid one; this
walks the raw dict against the models first, so `object_level.pading` says `did you mean
"padding"?`, and a key a model lists in its `renamed_keys` (a ClassVar: old name → new name)
says what it is called now. Value errors are then left to pydantic and reworded by `pydantic_message`.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from thresher.errors import ConfigError, did_you_mean

Model = TypeVar("Model", bound=BaseModel)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as `Model | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def check_known_keys(raw: Mapping[str, Any], model: type[BaseModel], path: str = "", where: str = "") -> None:
    """Raise ConfigError at the first key of `raw` (recursively) that `model` does not define."""
    fields = model.model_fields
    for key, value in raw.items():
        at = f"{path}.{key}" if path else str(key)
        if key not in fields:
            renamed = getattr(model, "renamed_keys", {}).get(key)
            hint = f" (it was renamed: write {renamed!r})" if renamed else did_you_mean(str(key), fields)
            raise ConfigError(f"{where}{at}: unknown key {key!r}{hint}; valid keys: {', '.join(fields)}")
        inner = _model_of(fields[key].annotation)
        if inner is not None and isinstance(value, Mapping):
            check_known_keys(value, inner, at, where)


def pydantic_message(exc: ValidationError, where: str = "") -> str:
    """The first error of a ValidationError as `where<dotted path>: <message>, got <value>`."""
    error = exc.errors()[0]
    path = ".".join(str(p) for p in error["loc"])
    return f"{where}{path}: {error['msg']}, got {error.get('input')!r}"


def validate_config(model: type[Model], raw: Mapping[str, Any] | None, where: str) -> Model:
    """`model` from a raw dict, with unknown keys and bad values as one-line ConfigErrors."""
    raw = dict(raw or {})
    check_known_keys(raw, model, "", where)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(pydantic_message(exc, where)) from None
