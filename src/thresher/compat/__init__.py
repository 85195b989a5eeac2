"""Local stand-ins for the Python APIs of the seed documents (see `thresher.compat.lightly`)."""
