"""A config file's text (YAML, or JSON by its `.json` suffix) parsed strictly: a key given twice
in one mapping is refused like a syntax error, in one line with its place, instead of the last
one silently winning (two `selection_config:` blocks would run the second alone).

Example: `parse_config(Path("run.yaml"), "a: 1\\na: 2\\n")` → ConfigError
`run.yaml:2:1: not valid YAML: found the key 'a' a second time (while constructing a mapping that starts at line 1, column 1)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from thresher.errors import ConfigError, parse_error


def parse_config(path: Path, text: str) -> Any:
    """The parsed `text` of the config file `path` (ConfigError naming the place of a syntax
    error or of a repeated key).

    >>> parse_config(Path("run.yaml"), "a: 1\\nb: {c: 2}\\n")
    {'a': 1, 'b': {'c': 2}}
    >>> parse_config(Path("run.json"), '{"a": 1, "a": 2}')
    Traceback (most recent call last):
    thresher.errors.ConfigError: run.json: not valid JSON: found the key 'a' a second time
    """
    import json

    import yaml

    kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
    try:
        if kind == "JSON":
            return json.loads(text, object_pairs_hook=_unique_pairs)
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(parse_error(path, kind, exc)) from exc


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"found the key {key!r} a second time")
        seen[key] = value
    return seen


def _loader() -> type:
    """yaml.SafeLoader refusing a key repeated in one mapping (made on first use: yaml is imported lazily)."""
    import yaml

    class UniqueKeyLoader(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            seen: set = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError("while constructing a mapping", node.start_mark, f"found the key {key!r} a second time", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return UniqueKeyLoader
