"""What the benchmark scripts share: progress lines, installing the reference tool, building
our release example, timing a process with its peak RSS, and word recall against a reference."""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def step(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def ensure_apt_tool(tool: str, package: str) -> None:
    """Installs the Debian `package` that provides `tool` when it is not on PATH."""
    if shutil.which(tool):
        return
    step(f"installing {package} (apt-get)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        sudo + ["apt-get", "install", "-y", "-qq", package],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


VENV = ROOT / ".local" / "bench-venv"


def ensure_pip_package(spec: str) -> Path:
    """Installs the pinned PyPI `spec` into the benchmarks' virtualenv; returns its bin dir."""
    stamp = VENV / f".installed-{spec}"
    if not stamp.exists():
        step(f"installing {spec} into {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", spec], check=True)
        stamp.touch()
    return VENV / "bin"


def build_example(package: str, example: str) -> Path:
    """Builds `package`'s example in release and returns its path."""
    step(f"building the release example {example} (minutes the first time)")
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", package, "--example", example],
        cwd=ROOT,
        check=True,
    )
    return ROOT / "target" / "release" / "examples" / example


def build_binary(package: str, binary: str) -> Path:
    """Builds `package`'s binary in release and returns its path."""
    step(f"building the release binary {binary}")
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", package, "--bin", binary], cwd=ROOT, check=True
    )
    return ROOT / "target" / "release" / binary


def timed(command: list, env: dict = None, stdin=None) -> tuple:
    """Runs command under /usr/bin/time; returns (completed process, wall seconds, peak RSS MB).
    The RSS is the largest of the command's process and any child it waited for."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        result = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name] + command,
            capture_output=True,
            text=True,
            env=env,
            stdin=stdin,
        )
        wall = time.perf_counter() - started
        lines = rss.read().strip().splitlines()
    return result, wall, int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")


WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> collections.Counter:
    """The words of `text`, lower-cased, as a multiset."""
    return collections.Counter(word.lower() for word in WORD.findall(text))


def recall(ours: str, reference: str) -> float:
    """The share of `reference`'s words (as a multiset) that `ours` contains; NaN if it has none."""
    wanted = words(reference)
    total = sum(wanted.values())
    if total == 0:
        return float("nan")
    found = words(ours)
    return sum(min(count, found[word]) for word, count in wanted.items()) / total
