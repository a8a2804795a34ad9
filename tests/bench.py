"""Benchmarks for derive, as ratios with medians over repeated runs.

    python3 tests/bench.py [--quick] [--repeats N] [--repo PATH] [--timeout SECONDS] [--skip-sympy]

Not a test: pytest does not collect this file (its name does not start with
``test_`` and it has no test functions), and nothing here asserts a time.

Every measurement runs in a fresh Python process with ``PYTHONPATH`` set to a
byte-compiled copy of the repository's ``derive`` and ``templates`` (``--repo``, by
default the checkout this file is in), so SymPy's caches and derive's own start
cold.  The copy is byte-compiled the way ``pip install`` does it, so derive's
modules load from bytecode just as the floor's SymPy and Jinja2 do from
site-packages (``PYTHONDONTWRITEBYTECODE``, set on some machines, would otherwise
make every run compile derive from source).  Four figures, all measured in one run:

1. The main job, ``python3 -m derive`` in a fresh temporary folder (wall time of
   the whole process), against the import floor ``python3 -c "import sympy, jinja2"``.
2. The certified derivation in-process, ``derive_certified(Problem(classes=H))
   .document('json')`` (trail, certification and JSON), at H = 10, 20, 40, against
   plain SymPy in the same process: ``diff`` and ``simplify`` of the written-out
   softmax cross-entropy with ``y_1 = 1 - Σ_{m>1} y_m``, with respect to ``z_1``.
   SymPy runs after derive, so it finds SymPy's cache warm (this favours SymPy).
3. H = 100 and H = 1000: the same in-process time, split into derive, certify and
   JSON, and the process's peak resident memory (one process per run).
4. The whole catalogue, ``python3 -m derive catalogue -o DIR``, against the import floor.
5. Past the output layer through a hidden layer: ``python3 -m derive pair softmax cross-entropy --hidden
   sigmoid --wrt V --H 20 --inputs 20 --units 20 --format md`` (wall time of the whole process: both
   derivations, both certifications, the 20 × 20 gradient written out in the trail and 12 of its entries
   checked).  Markdown, not JSON: the JSON writes each of the 400 entries out in full, about 5 GB at
   these sizes (157 MB at H = M = D = 10).  ``--network-only`` runs this figure alone.

``--quick`` takes 2 repeats instead of 5.  Plain SymPy at H = 40 takes about
20 seconds, so it runs once whatever the number of repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
DEFAULT_REPO = HERE.parent.parent
COMPARE_H = (10, 20, 40)
SYMPY_ONCE = 40  # plain SymPy takes ~20 s here: one run only
LARGE_H = (100, 1000)
NETWORK = ["pair", "softmax", "cross-entropy", "--hidden", "sigmoid", "--wrt", "V", "--H", "20", "--inputs", "20",
           "--units", "20", "--format", "md", "-o", "network.md"]
TARGETS = {
    "main": 1.3,  # main job / import floor, at most
    "speedup": 50.0,  # plain SymPy / derive at H = 40, at least
    "seconds_1000": 5.0,
    "mib_1000": 300.0,
    "growth": 15.0,  # time(1000) / time(100), at most
}


# -- workers: run in a fresh process, print one line of JSON -----------------------------------


def _worker_certified(classes: int, sympy_too: bool) -> dict:
    import resource

    import derive
    import derive.cli.pipeline as pipeline
    from derive.problem import Problem

    spent = {"derive": 0.0, "certify": 0.0}
    peaks = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start
                peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        return wrapper

    pipeline.derive = timed("derive", pipeline.derive)
    pipeline.certify = timed("certify", pipeline.certify)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    text = pipeline.derive_certified(Problem(classes=classes)).document("json")
    total = time.perf_counter() - start
    result = {
        "H": classes,
        "seconds": total,
        "derive": spent["derive"],
        "certify": spent["certify"],
        "json": total - spent["derive"] - spent["certify"],
        "json_mb": len(text) / 1e6,  # characters (the JSON is ASCII but for a few LaTeX symbols)
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "certified_mib": peaks.get("certify"),
        "import_mib": rss_before / 1024,
        "module": derive.__file__,
    }
    if sympy_too:
        result["sympy"] = _plain_sympy(classes)
    return result


def _plain_sympy(classes: int) -> float:
    """What a user would type to check the gradient with SymPy alone: seconds for build + diff + simplify."""
    from sympy import Add, IndexedBase, diff, exp, log, simplify

    start = time.perf_counter()
    z, y = IndexedBase("z"), IndexedBase("y")
    total = Add(*[exp(z[m]) for m in range(1, classes + 1)])
    loss = -Add(*[y[m] * log(exp(z[m]) / total) for m in range(1, classes + 1)])
    loss = loss.subs(y[1], 1 - Add(*[y[m] for m in range(2, classes + 1)]))
    simplify(diff(loss, z[1]))
    return time.perf_counter() - start


def worker(argv: list[str]) -> None:
    kind = argv[0]
    if kind == "certified":
        print(json.dumps(_worker_certified(int(argv[1]), sympy_too=len(argv) > 2 and argv[2] == "sympy")))
    else:
        raise SystemExit(f"unknown worker {kind!r}")


# -- the runner ----------------------------------------------------------------------------------


class Runner:
    def __init__(self, repo: Path, timeout: float):
        self.repo = repo
        self.timeout = timeout
        self.env = dict(os.environ, PYTHONPATH=str(repo))
        self.failures: list[str] = []
        self.timed_out: set = set()  # worker arguments that ran out of time

    def wall(self, command: list[str], check_output: str | None = None) -> float | None:
        """Wall time of a whole process started in a fresh temporary folder."""
        folder = Path(tempfile.mkdtemp(prefix="derive-bench-"))
        try:
            start = time.perf_counter()
            try:
                done = subprocess.run(command, cwd=folder, env=self.env, capture_output=True, text=True, timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self.failures.append(f"timeout after {self.timeout:.0f}s: {' '.join(command)}")
                return None
            seconds = time.perf_counter() - start
            if done.returncode != 0:
                self.failures.append(f"exit {done.returncode}: {' '.join(command)}: {done.stderr.strip()[-300:]}")
                return None
            if check_output and not any((folder / check_output).iterdir()):
                self.failures.append(f"nothing written by {' '.join(command)}")
            return seconds
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def work(self, *args: str) -> dict | None:
        """Run a worker of this file in a fresh process; its JSON line."""
        command = [sys.executable, str(HERE), "--worker", *args]
        try:
            done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.failures.append(f"timeout after {self.timeout:.0f}s: worker {' '.join(args)}")
            self.timed_out.add(args)
            return None
        if done.returncode != 0:
            self.failures.append(f"worker {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-400:]}")
            return None
        return json.loads(done.stdout.strip().splitlines()[-1])


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value: float | None, unit: str = "s", digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    return f"{value:.{digits}f}{unit}" if unit != "x" else f"{value:.{digits}g}x"


def verdict(value: float | None, target: float, at_most: bool) -> str:
    if isinstance(value, str):
        return "MISSED"  # ran out of time
    if value is None:
        return "n/a"
    return "met" if (value <= target if at_most else value >= target) else "MISSED"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    line = lambda cells: "  ".join(str(cell).rjust(width) if n else str(cell).ljust(width) for n, (cell, width) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def machine(repo: Path) -> list[str]:
    try:
        import sympy

        sympy_version = sympy.__version__
    except ImportError:
        sympy_version = "not installed"
    cpu = platform.processor() or ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass

    def git(*args):
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    commit = git("rev-parse", "--short", "HEAD") or "(not a git checkout)"
    changed = len([line for line in git("status", "--porcelain").splitlines() if line.strip()])
    return [
        f"command:   {' '.join([Path(sys.executable).name, *sys.argv])}",
        f"machine:   {platform.platform()}; {cpu or 'cpu ?'}; {os.cpu_count()} CPUs; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"python:    {platform.python_version()} ({sys.executable})",
        f"sympy:     {sympy_version}",
        f"repo:      {repo} at {commit}{f' + {changed} uncommitted files' if changed else ''}",
    ]


def _installed_copy(repo: Path) -> Path:
    """``derive`` and its templates copied to a temporary folder and byte-compiled, as an install leaves them."""
    folder = Path(tempfile.mkdtemp(prefix="derive-bench-install-"))
    shutil.copytree(repo / "derive", folder / "derive", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(repo / "templates", folder / "templates")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(folder / "derive")], check=True)
    return folder


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 repeats instead of 5")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO, help="the checkout to measure (default: this one)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a single run is abandoned")
    parser.add_argument("--skip-sympy", action="store_true", help="do not run plain SymPy (no speed-up figure)")
    parser.add_argument("--network-only", action="store_true", help="only figure 5, the hidden layer's --wrt V")
    args = parser.parse_args(argv)
    repeats = args.repeats or (2 if args.quick else 5)
    repo = args.repo.resolve()
    installed = _installed_copy(repo)
    runner = Runner(installed, args.timeout)
    python = sys.executable
    started = time.perf_counter()
    if args.network_only:
        return network_figure(runner, python, repeats, installed, started)

    print("derive benchmarks")
    print("\n".join(machine(repo)))
    print(f"repeats:   {repeats} (median of each); plain SymPy at H = {SYMPY_ONCE} once; every run in a fresh process")
    print()

    # 1 and 4: whole processes, interleaved with the import floor so drift hits both alike
    floor, main_job, catalogue = [], [], []
    for _ in range(repeats):
        floor.append(runner.wall([python, "-c", "import sympy, jinja2"]))
        main_job.append(runner.wall([python, "-m", "derive"], check_output="output"))
        floor.append(runner.wall([python, "-c", "import sympy, jinja2"]))
        catalogue.append(runner.wall([python, "-m", "derive", "catalogue", "-o", "catalogue"], check_output="catalogue"))
    floor_s, main_s, catalogue_s = median(floor), median(main_job), median(catalogue)

    # 2: in-process, derive against plain SymPy
    compare = {}
    for classes in COMPARE_H:
        runs = []
        for n in range(repeats):
            sympy_too = not args.skip_sympy and (classes != SYMPY_ONCE or n == 0)
            runs.append(runner.work("certified", str(classes), *(["sympy"] if sympy_too else [])))
        runs = [run for run in runs if run]
        compare[classes] = (median([r["seconds"] for r in runs]), median([r.get("sympy") for r in runs]), runs)

    # 3: large H, one process per run so the memory peaks are separate
    large = {}
    for classes in LARGE_H:
        runs = [run for run in (runner.work("certified", str(classes)) for _ in range(repeats)) if run]
        large[classes] = runs

    module = next((run["module"] for _, _, runs in compare.values() for run in runs), "?")
    print(f"derive imported from {module}")
    print()
    print("1. Main job and catalogue (wall time of the whole process, cold, fresh temporary folder)")
    ratio_main = main_s / floor_s if main_s and floor_s else None
    ratio_catalogue = catalogue_s / floor_s if catalogue_s and floor_s else None
    print(table(
        ["measurement", "median", "ratio to floor", "target", ""],
        [
            ["python3 -c 'import sympy, jinja2' (floor)", fmt(floor_s), "1x", "", ""],
            ["python3 -m derive", fmt(main_s), fmt(ratio_main, "x"), "<= 1.3x", verdict(ratio_main, TARGETS["main"], True)],
            ["python3 -m derive catalogue -o DIR", fmt(catalogue_s), fmt(ratio_catalogue, "x"), "", ""],
        ],
    ))
    print()
    print("2. Certified derivation in-process (trail + certification + JSON) against plain SymPy diff + simplify")
    rows = []
    for classes, (ours, theirs, runs) in compare.items():
        speedup = theirs / ours if ours and theirs else None
        rows.append([
            f"H = {classes}", fmt(ours), fmt(theirs) + (" (1 run)" if classes == SYMPY_ONCE else ""),
            fmt(speedup, "x"), ">= 50x" if classes == SYMPY_ONCE else "",
            verdict(speedup, TARGETS["speedup"], False) if classes == SYMPY_ONCE else "",
        ])
    print(table(["", "derive", "plain SymPy", "speed-up", "target", ""], rows))
    print()
    print("3. Large H, in-process (one process per run; RSS = the process's maximum resident memory so far)")
    rows = []
    late = f"> {args.timeout:.0f}s"
    for classes, runs in large.items():
        pick = lambda key: median([run[key] for run in runs])
        seconds, peak = pick("seconds") if runs else None, pick("peak_mib") if runs else None
        if not runs and ("certified", str(classes)) in runner.timed_out:
            seconds = late
        rows.append([
            f"H = {classes}", fmt(seconds), fmt(pick("derive") if runs else None), fmt(pick("certify") if runs else None),
            fmt(pick("json") if runs else None), fmt(pick("json_mb") if runs else None, " MB", 1),
            fmt(pick("import_mib") if runs else None, " MiB", 0), fmt(pick("certified_mib") if runs else None, " MiB", 0),
            fmt(peak, " MiB", 0),
        ])
    print(table(["", "total", "derive", "certify", "json", "json size", "RSS: import", "+ certify", "+ json (peak)"], rows))
    t100 = median([run["seconds"] for run in large.get(100, [])])
    t1000 = median([run["seconds"] for run in large.get(1000, [])])
    if t1000 is None and ("certified", "1000") in runner.timed_out:
        t1000 = late
    peak1000 = median([run["peak_mib"] for run in large.get(1000, [])])
    growth = t1000 / t100 if t100 and isinstance(t1000, float) else None
    print()
    print(table(
        ["target", "value", ""],
        [
            ["H = 1000 within 5 s", fmt(t1000), verdict(t1000, TARGETS["seconds_1000"], True)],
            ["H = 1000 within 300 MiB", fmt(peak1000, " MiB", 0), verdict(peak1000, TARGETS["mib_1000"], True)],
            ["time(1000) / time(100) <= 15", fmt(growth, "x"), verdict(growth, TARGETS["growth"], True)],
        ],
    ))
    print()
    network_lines(runner, python, repeats)
    if runner.failures:
        print()
        print("problems:")
        for failure in runner.failures:
            print(f"  - {failure}")
    print()
    shutil.rmtree(installed, ignore_errors=True)
    print(f"finished in {time.perf_counter() - started:.0f}s; load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if runner.failures else 0


def network_lines(runner: Runner, python: str, repeats: int) -> None:
    """Figure 5: the hidden layer's --wrt V at H = M = D = 20, whole process."""
    runs = [runner.wall([python, "-m", "derive", *NETWORK], check_output=".") for _ in range(repeats)]
    print("5. Past the output layer: --hidden sigmoid --wrt V at H = M = D = 20 (whole process, Markdown)")
    print(table(["measurement", "median", "runs"], [["derive pair " + " ".join(NETWORK[1:13]), fmt(median(runs)),
                                                      ", ".join(fmt(run) for run in runs)]]))


def network_figure(runner: Runner, python: str, repeats: int, installed: Path, started: float) -> int:
    network_lines(runner, python, repeats)
    for failure in runner.failures:
        print(f"  - {failure}")
    shutil.rmtree(installed, ignore_errors=True)
    print(f"finished in {time.perf_counter() - started:.0f}s; load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if runner.failures else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2:])
    else:
        sys.exit(main(sys.argv[1:]))
