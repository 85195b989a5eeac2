"""Seed 002's calibration method names, as aliases of thresher's methods and scopes.

The seed names its calibration methods `calib_method_class` ∈ {ts_all, ts_percls, iso_all,
iso_percls} for classification and `calib_method_box` ∈ {ts_all, ts_percoo, iso_all, iso_percoo,
iso_perclscoo, rel_iso_perclscoo} for localization; its `calib` strategy option writes the last
one `iso_percls_coo`. "ts" is temperature scaling, "iso" isotonic regression, "all" one map,
"percls" one per class, "percoo" one per box coordinate, "perclscoo" one per class and coordinate,
"rel_" fitted on the box-relative sigma. `fit_calibrator` and `thresher autolabel fit` accept
them wherever a method is named.

>>> class_method("ts_percls")
('temperature', 'per_class')
>>> box_method("rel_iso_perclscoo")
('isotonic', 'per_class_coordinate', True)
"""

from __future__ import annotations

from thresher.errors import ConfigError, did_you_mean

CLASS_METHODS = {
    "ts_all": ("temperature", "global"),
    "ts_percls": ("temperature", "per_class"),
    "iso_all": ("isotonic", "global"),
    "iso_percls": ("isotonic", "per_class"),
}
BOX_METHODS = {
    "ts_all": ("temperature", "global", False),
    "ts_percoo": ("temperature", "per_coordinate", False),
    "iso_all": ("isotonic", "global", False),
    "iso_percoo": ("isotonic", "per_coordinate", False),
    "iso_perclscoo": ("isotonic", "per_class_coordinate", False),
    "iso_percls_coo": ("isotonic", "per_class_coordinate", False),  # the spelling of the seed's `calib` option
    "rel_iso_perclscoo": ("isotonic", "per_class_coordinate", True),
}
THRESHER_METHODS = ("temperature", "isotonic")


def class_method(name: str, where: str = "calibration method") -> tuple[str, str]:
    """(method, scope) of a seed classification calibration name; `where` names the setting in errors."""
    if name not in CLASS_METHODS:
        raise ConfigError(
            f"{where} {name!r}: not one of seed 002's classification methods{did_you_mean(name, CLASS_METHODS)}; "
            f"choose from {', '.join(CLASS_METHODS)} or thresher's {', '.join(THRESHER_METHODS)}"
        )
    return CLASS_METHODS[name]


def box_method(name: str, where: str = "box calibration method") -> tuple[str, str, bool]:
    """(method, scope, relative) of a seed localization calibration name; `where` names the setting in errors."""
    if name not in BOX_METHODS:
        raise ConfigError(
            f"{where} {name!r}: not one of seed 002's localization methods{did_you_mean(name, BOX_METHODS)}; "
            f"choose from {', '.join(BOX_METHODS)} or thresher's {', '.join(THRESHER_METHODS)}"
        )
    return BOX_METHODS[name]


def resolve_class(method: str | None, scope: str, where: str = "calibration method") -> tuple[str | None, str]:
    """A score/probs part's (method, scope): seed names translated, thresher's left as given."""
    if method is None or method in THRESHER_METHODS:
        return method, scope
    return class_method(method, where)


def resolve_box(method: str | None, scope: str, relative: bool, where: str = "box calibration method") -> tuple[str | None, str, bool]:
    """The box part's (method, scope, relative): seed names translated, thresher's left as given."""
    if method is None or method in THRESHER_METHODS:
        return method, scope, relative
    return box_method(method, where)
