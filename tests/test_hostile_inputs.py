"""Hostile and broken input: every case gives exit 2, a message with file, line, code and what was expected,
no traceback, and no output file created or changed.

The corpus lives in tests/hostile/ with its expectations in tests/hostile/manifest.yaml; inputs that must not be
committed (a 50 MB file, other encodings, binary data, symlinks) are generated here in a temporary folder.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.errors import ComplianceError, InputError, PackError
from compliance.loading.jurisdictions import load_jurisdictions
from compliance.loading.launch import load_launch
from compliance.loading.packs import load_pack
from compliance.loading.yamlsafe import decode_text, parse_yaml

from .cli_runner import run

HERE = Path(__file__).parent / "hostile"
CASES = yaml.safe_load((HERE / "manifest.yaml").read_text(encoding="utf-8"))["cases"]
VALID_LAUNCH = HERE / "valid" / "launch.yaml"
VALID = "launch:\n  name: Hostile test\n  markets: [CN]\n  launch_date: 2027-01-10\nmaterials:\n  - {id: m1, type: ad, market: CN}\n"


_ORIGINAL_CONTEXT_LOAD = None


@pytest.fixture(autouse=True)
def _shared_context(monkeypatch):
    """Load rule packs and profiles once for all CLI runs here: what is under test is the input handling."""
    import compliance.audit as audit_module

    global _ORIGINAL_CONTEXT_LOAD
    original = audit_module.Context.load.__func__
    _ORIGINAL_CONTEXT_LOAD = original
    cache: dict = _shared_context.__dict__.setdefault("cache", {})

    def cached(cls, with_claims: bool = True):
        if with_claims not in cache:
            cache[with_claims] = original(cls, with_claims)
        return cache[with_claims]

    monkeypatch.setattr(audit_module.Context, "load", classmethod(cached))


def _ids(cases):
    return [c["file"] for c in cases]


def assert_rejected(result, display: str, code: str, line: int | None, message: str) -> None:
    err = result.stderr
    assert result.returncode == 2, f"exit {result.returncode}\nstdout={result.stdout[:500]}\nstderr={err[:2000]}"
    assert "Traceback" not in err and "Traceback" not in result.stdout
    assert f"[{code}]" in err, err
    assert message in err, err
    assert "expected" in err or "should" in err or "did you mean" in err, f"no hint of what was expected: {err!r}"
    where = f"{display}:{line}:" if line is not None else f"{display}:"
    assert where in err, f"expected {where!r} in {err!r}"


def audit_with_outputs(tmp_path: Path, *args: str):
    xlsx, out_json = tmp_path / "out" / "audit.xlsx", tmp_path / "out" / "audit.json"
    result = run("audit", *args, "--xlsx", str(xlsx), "--json-out", str(out_json), "--format", "json")
    assert not xlsx.exists() and not out_json.exists(), "an output file was written for rejected input"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    return result


def test_corpus_is_large_enough_and_every_file_is_listed():
    assert len(CASES) + len(GENERATED) >= 40
    listed = {c["file"] for c in CASES}
    on_disk = {str(p.relative_to(HERE)) for p in HERE.rglob("*.yaml")} - {"manifest.yaml", "valid/launch.yaml"}
    assert on_disk == listed


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "launch"], ids=_ids([c for c in CASES if c["kind"] == "launch"]))
def test_hostile_launch_file(case, tmp_path):
    path = HERE / case["file"]
    display = str(path)
    if case["command"] == "validate":
        assert_rejected(run("validate", display), display, case["code"], case["line"], case["message"])
    assert_rejected(audit_with_outputs(tmp_path, display), display, case["code"], case["line"], case["message"])


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "waivers"], ids=_ids([c for c in CASES if c["kind"] == "waivers"]))
def test_hostile_waivers_file(case, tmp_path):
    path = str(HERE / case["file"])
    result = audit_with_outputs(tmp_path, str(VALID_LAUNCH), "--waivers", path)
    assert_rejected(result, path, case["code"], case["line"], case["message"])


@pytest.mark.parametrize("case", [c for c in CASES if c["kind"] == "pack"], ids=_ids([c for c in CASES if c["kind"] == "pack"]))
def test_hostile_rule_pack(case, tmp_path, monkeypatch):
    path = HERE / case["file"]
    with pytest.raises((PackError, InputError)) as info:  # YAML-level problems are input errors, also exit 2
        load_pack(path)
    assert info.value.exit_code == 2
    first = info.value.problems[0]
    assert (first.code, first.line, first.file) == (case["code"], case["line"], str(path))
    assert case["message"] in first.message
    # Through the CLI: a broken pack stops the audit with exit 2 and writes nothing.
    import compliance.audit as audit_module

    def broken_library(*args, **kwargs):
        load_pack(path)
        raise AssertionError("the pack loaded")

    monkeypatch.setattr(audit_module, "load_library", broken_library)
    monkeypatch.setattr(audit_module.Context, "load", classmethod(_ORIGINAL_CONTEXT_LOAD))
    assert_rejected(audit_with_outputs(tmp_path, str(VALID_LAUNCH)), str(path), case["code"], case["line"], case["message"])
    assert_rejected(run("rules", "test"), str(path), case["code"], case["line"], case["message"])


def test_existing_outputs_are_byte_identical_after_rejected_input(tmp_path):
    xlsx, out_json = tmp_path / "audit.xlsx", tmp_path / "audit.json"
    xlsx.write_bytes(b"PK\x03\x04 reviewer work that must survive")
    out_json.write_text('{"previous": true}', encoding="utf-8")
    before = (xlsx.read_bytes(), out_json.read_bytes())
    for bad in (HERE / "launch" / "dup_key_nested.yaml", HERE / "launch" / "escape" / "launch_parent.yaml"):
        result = run("audit", str(bad), "--xlsx", str(xlsx), "--json-out", str(out_json), "--format", "json")
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert (xlsx.read_bytes(), out_json.read_bytes()) == before
    result = run("audit", str(VALID_LAUNCH), "--xlsx", str(xlsx), "--json-out", str(out_json),
                 "--waivers", str(HERE / "waivers" / "unknown_rule.yaml"), "--format", "json")
    assert result.returncode == 2
    assert (xlsx.read_bytes(), out_json.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit.json", "audit.xlsx"]  # no temporary files left


# -- generated inputs ----------------------------------------------------------------------------------------
def _write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / "in" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _big(tmp: Path) -> Path:
    path = tmp / "in" / "big.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.write(VALID.encode())
        fh.write(b"# " + b"x" * 1022 + b"\n")
        fh.truncate(50 * 1024 * 1024)  # sparse: 50 MB without writing 50 MB
    return path


def _symlinked_launch(tmp: Path) -> Path:
    target = _write(tmp, "real.yaml", VALID.encode())
    link = tmp / "in" / "link.yaml"
    link.symlink_to(target)
    return link


def _symlinked_text(tmp: Path) -> Path:
    folder = tmp / "in"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ad.txt").symlink_to("/etc/hostname")
    return _write(tmp, "launch.yaml", (VALID.replace("{id: m1, type: ad, market: CN}", "{id: m1, type: ad, text_file: ad.txt}")).encode())


def _gbk_text(tmp: Path) -> Path:
    _write(tmp, "ad.txt", "本店最佳夜宵，全城第一".encode("gbk"))
    return _write(tmp, "launch.yaml", (VALID.replace("{id: m1, type: ad, market: CN}", "{id: m1, type: ad, text_file: ad.txt}")).encode())


def _directory(tmp: Path) -> Path:
    path = tmp / "in" / "dir.yaml"
    path.mkdir(parents=True)
    return path


CN_LAUNCH = "launch:\n  name: 测试发布\n  markets: [CN]\n"
# name -> (make input, code, line (None: the file as a whole), message fragment, commands, file shown in the message)
GENERATED = {
    "50mb": (_big, "E105", None, "over the 10,485,760-byte limit", ("validate", "audit"), None),
    "binary": (lambda t: _write(t, "bin.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))), "E103", 1,
               "binary data", ("validate", "audit"), None),
    "gbk": (lambda t: _write(t, "gbk.yaml", CN_LAUNCH.encode("gbk")), "E102", 2, "not valid UTF-8", ("validate", "audit"), None),
    "gb18030": (lambda t: _write(t, "gb18030.yaml", CN_LAUNCH.encode("gb18030")), "E102", 2, "GBK/GB18030", ("validate", "audit"), None),
    "latin1": (lambda t: _write(t, "latin1.yaml", "launch:\n  name: Café\n  markets: [FR]\n".encode("latin-1")), "E102", 2,
               "not valid UTF-8", ("validate",), None),
    "utf16-bom": (lambda t: _write(t, "utf16.yaml", CN_LAUNCH.encode("utf-16")), "E102", 1, "UTF-16", ("validate", "audit"), None),
    "utf16-no-bom": (lambda t: _write(t, "utf16le.yaml", CN_LAUNCH.encode("utf-16-le")), "E102", 1, "UTF-16",
                     ("validate", "audit"), None),
    "utf32-bom": (lambda t: _write(t, "utf32.yaml", CN_LAUNCH.encode("utf-32")), "E102", 1, "UTF-32", ("validate",), None),
    "symlink-launch": (_symlinked_launch, "E104", None, "symbolic link", ("validate", "audit"), None),
    "symlink-text-file": (_symlinked_text, "E140", 6, "is a symbolic link", ("audit",), None),
    "gbk-text-file": (_gbk_text, "E102", 1, "not valid UTF-8", ("audit",), "ad.txt"),
    "directory": (_directory, "E101", None, "not a regular file", ("validate", "audit"), None),
    "missing": (lambda t: t / "in" / "nowhere.yaml", "E101", None, "file not found", ("validate", "audit"), None),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_hostile_input(name, tmp_path):
    make, code, line, message, commands, shown = GENERATED[name]
    path = make(tmp_path)
    display = str(path.parent / shown) if shown else str(path)
    if "validate" in commands:
        assert_rejected(run("validate", str(path)), display, code, line, message)
    if "audit" in commands:
        assert_rejected(audit_with_outputs(tmp_path, str(path)), display, code, line, message)


def test_utf8_bom_is_accepted(tmp_path):
    path = _write(tmp_path, "bom.yaml", b"\xef\xbb\xbf" + VALID.encode())
    result = run("validate", str(path))
    assert result.returncode == 0, result.stderr
    assert "valid launch description 'Hostile test'" in result.stdout
    loaded = load_launch(path, load_jurisdictions())
    assert loaded.doc.launch.name == "Hostile test" and loaded.source.line_of(("materials", 0)) == 6


def test_chinese_utf8_without_bom_is_accepted(tmp_path):
    path = _write(tmp_path, "zh.yaml", CN_LAUNCH.encode("utf-8"))
    assert run("validate", str(path)).returncode == 0


# -- bounded fuzzing of the loaders --------------------------------------------------------------------------
FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
_TOKENS = list("ab:-[]{}&*!|>'\"#%@`,?\n\t .0123456789~<=") + [
    "launch", "markets", "name", "!!python/object:os.system ", "<<: ", "2026-02-30", "\ufeff", "\x00", "\x07", "测试",
    "&a ", "*a", "\n  ", "- ", ": "]
YAMLISH = st.lists(st.sampled_from(_TOKENS), max_size=40).map("".join)
JUR = load_jurisdictions()


def _loads_or_input_error(fn) -> None:
    try:
        fn()
    except InputError as exc:
        assert exc.exit_code == 2 and exc.problems and all(p.code.startswith("E1") for p in exc.problems)


@FUZZ
@given(data=st.one_of(st.binary(max_size=200), YAMLISH.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_fuzz_decode_and_parse_only_raise_input_error(data):
    _loads_or_input_error(lambda: parse_yaml(decode_text(data, "fuzz.yaml"), "fuzz.yaml"))


@FUZZ
@given(text=YAMLISH, prefix=st.sampled_from(["", "launch:\n  name: t\n  markets: [CN]\n", "launch: {name: t, markets: "]))
def test_fuzz_load_launch_only_raises_input_error(text, prefix, tmp_path):
    path = tmp_path / "fuzz.yaml"
    path.write_bytes((prefix + text).encode("utf-8", "surrogatepass"))
    _loads_or_input_error(lambda: load_launch(path, JUR))


@FUZZ
@given(doc=st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.dates()),
                        lambda kids: st.one_of(st.lists(kids, max_size=3),
                                               st.dictionaries(st.sampled_from(["launch", "name", "markets", "materials",
                                                                                "id", "type", "text", "x"]), kids, max_size=4)),
                        max_leaves=12))
def test_fuzz_structured_launch_only_raises_input_error(doc, tmp_path):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _loads_or_input_error(lambda: load_launch(path, JUR))
