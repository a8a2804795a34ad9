"""The built wheel works on its own: installed in a fresh venv, run away from
the checkout, with no PYTHONPATH.

Slow (builds a wheel and a venv, about 10-30 s), so it is in the slow tier, which
CI runs too: this is what catches a template or data file missing from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD_TIMEOUT_S = 600
RUN_TIMEOUT_S = 600

pytestmark = pytest.mark.slow


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE"):
        env.pop(name, None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_ROOT_USER_ACTION"] = "ignore"
    return env


def _run(cmd: list[str], *, cwd: Path, timeout: int = RUN_TIMEOUT_S):
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    assert proc.returncode == 0, (
        f"{what} failed (exit {proc.returncode})\n"
        f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    proc = _run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w", out],
        cwd=out,
        timeout=BUILD_TIMEOUT_S,
    )
    _check(proc, "pip wheel")
    wheels = sorted(out.glob("derive_gradients-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {list(out.iterdir())}"
    return wheels[0]


@pytest.fixture(scope="module")
def venv_bin(wheel: Path, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed (dependencies from the system site)."""
    venv = tmp_path_factory.mktemp("venv")
    proc = _run(
        [sys.executable, "-m", "venv", "--system-site-packages", venv],
        cwd=venv,
        timeout=BUILD_TIMEOUT_S,
    )
    _check(proc, "python -m venv")
    bindir = venv / "bin"
    proc = _run(
        [bindir / "python", "-m", "pip", "install", "--no-deps", "--force-reinstall", wheel],
        cwd=venv,
        timeout=BUILD_TIMEOUT_S,
    )
    _check(proc, "pip install of the wheel into the venv")
    return bindir


def test_wheel_contents(wheel: Path):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = next(
            (zf.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt")),
            "",
        )
    assert "derive/__init__.py" in names or "derive/__main__.py" in names, names
    for package in ("certify", "check", "cli", "engine", "engine/rules", "present"):  # sub-packages come along
        assert f"derive/{package}/__init__.py" in names, (package, names)
    templates = [n for n in names if n.startswith("derive/templates/") and not n.endswith("/")]
    assert templates, f"no files under derive/templates/ in the wheel: {names}"
    assert not [n for n in names if n.startswith(("tests/", "output/", "templates/"))], names
    assert "derive = derive.__main__:command" in entry_points.replace("  ", " "), entry_points


def test_venv_imports_the_wheel_not_the_checkout(venv_bin: Path, tmp_path: Path):
    code = "import importlib.util as u; print(u.find_spec('derive.__main__').origin)"
    proc = _run([venv_bin / "python", "-c", code], cwd=tmp_path)
    _check(proc, "finding derive.__main__ in the venv")
    location = Path(proc.stdout.strip()).resolve()
    assert venv_bin.parent.resolve() in location.parents, location
    assert REPO not in location.parents, location


def _find_steps(data):
    """The list of steps in the JSON document: the first value under a "steps" key."""
    if isinstance(data, dict):
        if isinstance(data.get("steps"), list):
            return data["steps"]
        for value in data.values():
            found = _find_steps(value)
            if found is not None:
                return found
    elif isinstance(data, list):
        for value in data:
            found = _find_steps(value)
            if found is not None:
                return found
    return None


def test_installed_cli_pair_json_to_stdout(venv_bin: Path, tmp_path: Path):
    derive = venv_bin / "derive"
    assert derive.is_file(), f"the wheel installed no 'derive' script in {venv_bin}"
    proc = _run(
        [derive, "pair", "softmax", "cross-entropy", "--format", "json", "-o", "-"],
        cwd=tmp_path,
    )
    _check(proc, "derive pair softmax cross-entropy --format json -o -")
    try:
        data = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"stdout is not valid JSON ({exc}):\n{proc.stdout[:2000]}")
    steps = _find_steps(data)
    if steps is None and isinstance(data, list):
        steps = data
    assert steps, f"no steps in the JSON output:\n{proc.stdout[:2000]}"
    uncertified = [
        i for i, step in enumerate(steps) if not (isinstance(step, dict) and step.get("certified") is True)
    ]
    assert not uncertified, f"steps not certified: {uncertified}\n{proc.stdout[:2000]}"
    assert list(tmp_path.iterdir()) == [], "'-o -' must not write files"


def test_installed_cli_default_run_writes_outputs(venv_bin: Path, tmp_path: Path):
    proc = _run([venv_bin / "derive"], cwd=tmp_path)
    _check(proc, "derive (no arguments)")
    for suffix in (".md", ".tex"):
        out = tmp_path / "output" / f"softmax-cross-entropy{suffix}"
        assert out.is_file(), f"{out} not written; folder holds {sorted(p.name for p in tmp_path.rglob('*'))}"
        assert out.stat().st_size > 0, f"{out} is empty"
