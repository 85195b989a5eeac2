"""Built-in models: image embedders (and, on other branches, detectors)."""
