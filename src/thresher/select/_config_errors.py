"""Turning selection_config mistakes into one-line `ConfigError` messages with dotted paths.

Unknown keys and unknown `type` values are found by walking the raw dict first (so the
message can suggest the nearest valid name); value errors come from pydantic and are
re-worded with the same dotted paths.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from thresher.errors import ConfigError, did_you_mean

# LightlyOne options that exist upstream but have no local meaning (yet).
UNSUPPORTED = {
    "lightly_path_regex": "filename-regex metadata",
    "lightlyPathRegex": "filename-regex metadata",
    "auto_tasks": "automatic crop/tiling tasks",
    "autoTasks": "automatic crop/tiling tasks",
    "target_range": "BALANCE target ranges",
    "targetRange": "BALANCE target ranges",
}


def _names(model: type[BaseModel]) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        names.append(name)
        if field.alias and field.alias != name:
            names.append(field.alias)
    return names


def _check_mapping_keys(raw: Mapping[str, Any], model: type[BaseModel], path: str, where: str) -> None:
    valid = _names(model)
    for key in raw:
        if key in valid:
            continue
        at = f"{path}.{key}" if path else str(key)
        if key in UNSUPPORTED:
            raise ConfigError(f"{where}{at}: LightlyOne's {UNSUPPORTED[key]} are not supported by thresher; remove the key")
        snake = [n for n in valid if "_" in n or n.islower()]
        raise ConfigError(f"{where}{at}: unknown key {key!r}{did_you_mean(str(key), valid)}; valid keys: {', '.join(snake)}")


def _check_typed(raw: Any, models: Mapping[str, type[BaseModel]], path: str, where: str, what: str) -> None:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}{path}: expected a mapping with a `type`, got {type(raw).__name__}")
    kind = raw.get("type")
    choices = list(models)
    if kind is None:
        raise ConfigError(f"{where}{path}.type: missing; expected one of {', '.join(choices)}")
    if kind not in models:
        hint = did_you_mean(str(kind).upper(), choices) or did_you_mean(str(kind), choices)
        raise ConfigError(f"{where}{path}.type: unknown {what} type {kind!r}{hint}; expected one of {', '.join(choices)}")
    _check_mapping_keys(raw, models[kind], path, where)


def check_keys(raw: Mapping[str, Any], models: Mapping[str, Any], where: str = "") -> None:
    """Raise ConfigError for the first unknown key or type, with its dotted path."""
    _check_mapping_keys(raw, models["config"], "", where)
    strategies = raw.get("strategies")
    if not isinstance(strategies, list):
        return  # pydantic reports the missing or malformed list
    for i, entry in enumerate(strategies):
        path = f"strategies[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}{path}: expected a mapping {{input, strategy}}, got {type(entry).__name__}")
        _check_mapping_keys(entry, models["entry"], path, where)
        for part in ("input", "strategy"):
            if part not in entry:
                raise ConfigError(f"{where}{path}.{part}: missing; every strategy entry has an input and a strategy")
            _check_typed(entry[part], models[part], f"{path}.{part}", where, part)
        weights = entry["strategy"].get("weights")
        if weights is not None and "weights" in models and "weights" in models["strategy"][entry["strategy"]["type"]].model_fields:
            _check_typed(weights, models["weights"], f"{path}.strategy.weights", where, "weights")


def _dotted(loc: tuple[Any, ...], models: Mapping[str, Any]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        prev = loc[i - 1] if i else None
        if prev in ("input", "strategy", "weights") and part in models.get(prev, ()):
            continue  # pydantic's discriminated-union tag, not a key of the user's dict
        if part.startswith("function-after["):
            continue
        out += f".{part}" if out else part
    return out


def _message(err: Mapping[str, Any]) -> tuple[str, str]:
    """(extra sub-path, text) of one pydantic error."""
    msg = str(err["msg"])
    if err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
        match = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", msg, re.S)
        if match:
            return match.group(1), match.group(2)
        return "", msg
    if err["type"] == "literal_error":
        expected = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        got = err.get("input")
        return "", f"expected one of {', '.join(expected)}, got {got!r}{did_you_mean(str(got), expected)}"
    if err["type"] == "missing":
        return "", "missing (required)"
    return "", f"{msg}, got {err.get('input')!r}"


def format_validation_error(exc: ValidationError, models: Mapping[str, Any], section: str = "") -> str:
    """One line per error (at most three), each `dotted.path: what was expected, what came`
    (`section`: the selection config's own path in its file, e.g. `selection_config.`, in front)."""
    lines = []
    for err in exc.errors(include_url=False)[:3]:
        sub, text = _message(err)
        path = _dotted(tuple(err["loc"]), models)
        path = ".".join(p for p in (path, sub) if p)
        path = section + path if path else section.removesuffix(".") or "selection_config"
        lines.append(f"{path}: {text}")
    more = len(exc.errors()) - len(lines)
    return "; ".join(lines) + (f" (and {more} more)" if more > 0 else "")
