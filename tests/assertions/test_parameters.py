"""Assertion parameters: every value resolved with its defaults, bad ones named by their path."""

import re

import pytest

from thresher.assertions.parameters import resolve_parameters
from thresher.errors import ConfigError


def test_parameters_are_resolved_and_checked_with_their_path():
    resolved = resolve_parameters(["flicker", "appear"], {"flicker": {"max_gap": 2}}, where="thresher.assertions.parameters")
    assert resolved["flicker"]["max_gap"] == 2 and resolved["flicker"]["presence"] == "coverage"
    assert resolved["appear"] == {"min_length": 3, "link_iou": 0.5, "max_gap": 1, "class_aware": True}
    assert resolve_parameters(["flicker"], {}, seed_compatible=True) == {"flicker": {"iou_thresh_tracking": 0.9, "iou_thresh_assertion": 0.6}}
    for given, message in (
        ({"flicker": {"present_iou": 0.5}}, "flicker.present_iou: renamed; use present_overlap with presence: iou"),
        ({"flicker": {"presense": "iou"}}, 'flicker.presense: unknown parameter (did you mean "presence"?)'),
        ({"multibox": {"iou": 0.5}}, "multibox: parameters of an assertion that does not run"),
        ({"flicker": {"class_aware": "yes"}}, "flicker.class_aware: expected true or false"),
    ):
        with pytest.raises(ConfigError, match=re.escape(message)):
            resolve_parameters(["flicker"], given)


def test_the_module_examples():
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module("thresher.assertions.parameters")).failed == 0
