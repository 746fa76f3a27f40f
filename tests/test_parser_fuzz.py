"""Property-based fuzzing (hypothesis) of the parsers of files a user or a device hands us.

The device profile loader (TOML), the artifact manifest reader and the Karpathy
split loader each get valid documents with random mutations (fields replaced,
removed or added, any JSON/TOML type), random documents and random text. The
property: a parser either returns a usable object or raises an EdgeBenchError
whose message and hint hold no newline; never any other exception. The
10,000-case runs are `-m slow`; the fast suite runs ~200 cases of each.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_bench.errors import EdgeBenchError

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FULL = settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12) | st.sampled_from(["a\nb", "x y\r", "\t", "name"])
SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.integers(-3, 70_000)
           | st.floats(allow_nan=True, allow_infinity=True) | TEXT
           | st.sampled_from(["", "..", "../x", "/etc/passwd", "a/b", "a\nb", "test", "train", "image", "text", "ssh",
                              "local", "adb", "tflite", "executorch", "-oProxyCommand=x", "~/", "ab" * 32]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=10)


def one_line(exc: EdgeBenchError) -> None:
    """The property every failure must have: a message and hint without a line break."""
    assert isinstance(exc, EdgeBenchError)
    assert "\n" not in exc.message and "\r" not in exc.message, repr(exc.message)
    assert exc.hint is None or ("\n" not in exc.hint and "\r" not in exc.hint), repr(exc.hint)
    assert "\n" not in exc.one_line()


def _slots(node, path=()):
    """Every (container, key) in a JSON-like document, depth first."""
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        out.append((node, key))
        out += _slots(value, path + (key,))
    return out


@st.composite
def mutated(draw, base: dict, values=JSON, keys=TEXT):
    """`base` with 1-4 random edits: a value replaced, a key removed, a key added."""
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc)
        if not slots:
            break
        container, key = slots[draw(st.integers(0, len(slots) - 1))]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add", "rename"]))
        if action == "replace":
            container[key] = draw(values)
        elif action == "remove":
            del container[key]
        elif action == "rename" and isinstance(container, dict):
            container[draw(keys)] = container.pop(key)
        elif isinstance(container, dict):
            container[draw(keys)] = draw(values)
        else:
            container.append(draw(values))
    return doc


def corrupt(text: str):
    """A strategy of `text` with a few characters inserted, removed or replaced."""
    @st.composite
    def edits(draw):
        out = text
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(out)))
            action = draw(st.sampled_from(["insert", "delete", "cut"]))
            if action == "insert":
                out = out[:at] + draw(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=4)) + out[at:]
            elif action == "delete":
                out = out[:at] + out[at + draw(st.integers(1, 8)):]
            else:
                out = out[:at]
        return out
    return edits()


# --- device profiles (TOML) ------------------------------------------------------------


def toml_value(value) -> str:
    """A value as TOML (inline tables and arrays); what the profile's author might have typed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    return '""'


def toml_document(doc: dict) -> str:
    lines = [f"{toml_value(str(k))} = {toml_value(v)}" for k, v in doc.items() if v is not None and not isinstance(v, dict)]
    for key, table in doc.items():
        if isinstance(table, dict):
            lines.append(f"[{toml_value(str(key))}]")
            lines += [f"{toml_value(str(k))} = {toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


PROFILE_BASES = [
    {"name": "fuzz", "description": "a box", "transport": "local", "python": "", "threads": 2, "affinity": [0, 1],
     "backends": ["executorch", "tflite"], "peak_gflops": 10.5, "env": {"OMP_NUM_THREADS": "2"}},
    {"name": "fuzz", "transport": "ssh", "python": "python3", "workdir": "~/edge-bench", "threads": 4,
     "thermal_zones": ["/sys/class/thermal/thermal_zone0/temp"], "backends": ["tflite"],
     "ssh": {"host": "10.0.0.5", "port": 22, "user": "pi", "identity_file": "~/.ssh/id", "known_hosts": "/tmp/kh",
             "connect_timeout": 10.0, "options": {"ServerAliveInterval": "5"}, "control_master": True,
             "config_file": "none"}},
    {"name": "fuzz", "transport": "adb", "python": "", "workdir": "/data/local/tmp/edge-bench", "backends": ["tflite"],
     "adb": {"serial": "R5CT", "binary": "adb"}, "android": {"runners": {"tflite": {"host_path": "/x"}}}},
]
PROFILE_TEXTS = [toml_document(base) for base in PROFILE_BASES]
TOML_SCALARS = SCALARS.filter(lambda v: v is not None)
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                           max_leaves=8)
profile_texts = st.one_of(
    st.sampled_from(PROFILE_BASES).flatmap(lambda base: mutated(base, TOML_VALUES)).map(toml_document),
    st.sampled_from(PROFILE_TEXTS).flatmap(corrupt),
    st.dictionaries(TEXT, TOML_VALUES, max_size=5).map(toml_document),
    st.text(max_size=80),
)


def check_profile_text(folder: Path, text: str) -> None:
    from edge_bench.devices.loader import read_profile

    path = folder / "fuzz.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        profile = read_profile(path)
    except EdgeBenchError as exc:
        one_line(exc)
        return
    assert profile.name == "fuzz" and profile.threads >= 1
    assert isinstance(profile.address, str)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def test_shipped_like_profiles_load(fuzz_dir):
    from edge_bench.devices.loader import read_profile

    for text in PROFILE_TEXTS:
        (fuzz_dir / "fuzz.toml").write_text(text)
        assert read_profile(fuzz_dir / "fuzz.toml").name == "fuzz"


@FAST
@given(text=profile_texts)
def test_profile_loader_fuzz(fuzz_dir, text):
    check_profile_text(fuzz_dir, text)


@pytest.mark.slow
@FULL
@given(text=profile_texts)
def test_profile_loader_fuzz_10k(fuzz_dir, text):
    check_profile_text(fuzz_dir, text)


# --- artifact manifests (JSON) ------------------------------------------------------------


def _entry(tower: str, batch: int) -> dict:
    return {"file": f"{tower}-b{batch}.pte", "batch": batch, "sha256": "ab" * 32, "size_bytes": 10,
            "inputs": [{"name": "x", "shape": [batch, 3, 64, 64], "dtype": "float32"}],
            "outputs": [{"name": "y", "shape": [batch, 256], "dtype": "float32"}],
            "ops": {"ADD": 1}, "parity": {"cosine_min": 0.9999, "status": "ok"}, "delegation": {"partitions": 1},
            "convert_s": 1.5}


MANIFEST = {
    "schema": 1, "model": "edgeclip-s", "family": "edgeclip", "backend": "executorch", "precision": "fp32",
    "scheme": "fp32", "embed_dim": 256, "weights": {"status": "trained", "sha256": "cd" * 32},
    "preprocess": {"size": 64, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25], "interpolation": "bicubic"},
    "tokenizer": {"kind": "word", "vocab": ["a", "red", "circle"], "context_length": 16},
    "runs_on": ["linux"], "samples": {"source": "synthetic val"}, "versions": {"torch": "2.13.0"}, "key": "k" * 64,
    "towers": {t: {"artifacts": [_entry(t, 1), _entry(t, 8)], "flops": 1000, "parity": {}, "delegation": {}}
               for t in ("image", "text")},
}
manifest_texts = st.one_of(
    mutated(MANIFEST).map(json.dumps),
    st.just(json.dumps(MANIFEST)).flatmap(corrupt),
    JSON.map(json.dumps),
    st.text(max_size=80),
)


def check_manifest_text(folder: Path, text: str) -> None:
    from edge_bench.converters.artifact import ArtifactSet, read_manifest

    (folder / "manifest.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        artifacts = ArtifactSet.load(folder)
    except EdgeBenchError as exc:
        one_line(exc)
        assert read_manifest(folder) is None or "no artifacts" in exc.message  # the cache converts again
        return
    assert read_manifest(folder) == artifacts.manifest
    assert isinstance(artifacts.backend, str) and isinstance(artifacts.precision, str)
    for tower in ("image", "text"):
        for batch in artifacts.batch_sizes(tower):
            path = artifacts.artifact(tower, batch)
            assert path.parent == folder  # never outside the set's folder
    for bad in (lambda: artifacts.artifact("image", 10**6), lambda: artifacts.batch_sizes("audio")):
        with pytest.raises(EdgeBenchError) as caught:
            bad()
        one_line(caught.value)


def test_a_valid_manifest_loads(fuzz_dir):
    check_manifest_text(fuzz_dir, json.dumps(MANIFEST))
    from edge_bench.converters.artifact import ArtifactSet

    assert ArtifactSet.load(fuzz_dir).batch_sizes("text") == [1, 8]


@pytest.mark.parametrize("edit, words", [
    (lambda m: m["towers"]["image"]["artifacts"][0].update(file="../../etc/passwd"), "must be a plain file name"),
    (lambda m: m["towers"]["image"]["artifacts"][0].update(batch="1"), "batch must be an integer >= 1"),
    (lambda m: m["towers"]["text"].pop("artifacts"), "towers.text.artifacts must be a list"),
    (lambda m: m["preprocess"].update(std=[0.25, float("nan"), 0.25]), "preprocess.std[1] must be a finite number"),
    (lambda m: m.update(towers=[]), "towers must be an object"),
])
def test_a_malformed_manifest_is_one_line_naming_the_field(fuzz_dir, edit, words):
    from edge_bench.converters.artifact import ArtifactSet, read_manifest

    manifest = copy.deepcopy(MANIFEST)
    edit(manifest)
    (fuzz_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EdgeBenchError) as caught:
        ArtifactSet.load(fuzz_dir)
    assert words in caught.value.message
    one_line(caught.value)
    assert read_manifest(fuzz_dir) is None


@FAST
@given(text=manifest_texts)
def test_manifest_reader_fuzz(fuzz_dir, text):
    check_manifest_text(fuzz_dir, text)


@pytest.mark.slow
@FULL
@given(text=manifest_texts)
def test_manifest_reader_fuzz_10k(fuzz_dir, text):
    check_manifest_text(fuzz_dir, text)


# --- Karpathy split files (JSON + images) --------------------------------------------------


@pytest.fixture(scope="module")
def karpathy_dir(tmp_path_factory):
    """A data folder with a real JPEG, a truncated one, a text file posing as an image, and a folder."""
    from PIL import Image

    root = tmp_path_factory.mktemp("karpathy")
    images = root / "flickr30k-images"
    images.mkdir()
    pixels = np.random.default_rng(0).integers(0, 255, size=(20, 30, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(images / "good.jpg", quality=90)
    (images / "cut.jpg").write_bytes((images / "good.jpg").read_bytes()[:200])
    (images / "text.jpg").write_text("not an image\n")
    (images / "dir.jpg").mkdir()
    (root / "outside.jpg").write_bytes((images / "good.jpg").read_bytes())
    return root


def _image(name: str, split: str = "test", captions: int = 2) -> dict:
    return {"filename": name, "imgid": 0, "split": split, "sentids": [0, 1],
            "sentences": [{"raw": f"A photo {i}.", "tokens": ["a"], "imgid": 0, "sentid": i} for i in range(captions)]}


KARPATHY = {"dataset": "flickr30k", "images": [_image("good.jpg"), _image("cut.jpg"), _image("text.jpg"),
                                               _image("good.jpg", "restval"), _image("good.jpg", "val")]}
karpathy_texts = st.one_of(
    mutated(KARPATHY, JSON | st.sampled_from(["good.jpg", "dir.jpg", "../outside.jpg", "missing.jpg", "\0.jpg",
                                              "x" * 300, "/etc/hostname", "flickr30k-images"])).map(json.dumps),
    st.just(json.dumps(KARPATHY)).flatmap(corrupt),
    JSON.map(json.dumps),
    st.text(max_size=80),
)
SPLITS = st.sampled_from(["test", "train", "val"]) | TEXT


def check_karpathy_text(root: Path, text: str, split: str) -> None:
    from edge_bench.data.karpathy import load_karpathy
    from edge_bench.data.preprocess import resize_crop

    (root / "dataset_flickr30k.json").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        dataset = load_karpathy("flickr30k", root, split)
    except EdgeBenchError as exc:
        one_line(exc)
        return
    assert dataset.n_images >= 1 and len(dataset.captions) == len(dataset.caption_image)
    assert all(isinstance(c, str) for c in dataset.captions)
    assert set(dataset.caption_image.tolist()) <= set(range(dataset.n_images))
    for i in range(dataset.n_images):
        assert ".." not in Path(dataset.image_ids[i]).parts and not Path(dataset.image_ids[i]).is_absolute()
        try:
            assert resize_crop(dataset.load_image(i), 8).shape == (3, 8, 8)
        except EdgeBenchError as exc:
            one_line(exc)


def test_a_valid_karpathy_file_loads_and_its_bad_images_are_one_line(karpathy_dir):
    from edge_bench.data.karpathy import load_karpathy
    from edge_bench.errors import DataError

    (karpathy_dir / "dataset_flickr30k.json").write_text(json.dumps(KARPATHY))
    dataset = load_karpathy("flickr30k", karpathy_dir, "test")
    assert dataset.n_images == 3 and len(dataset.captions) == 6
    assert dataset.load_image(0).size == (30, 20)
    for i, name in ((1, "cut.jpg"), (2, "text.jpg")):
        with pytest.raises(DataError, match=f"image does not decode: .*{name}") as caught:
            dataset.load_image(i)
        one_line(caught.value)


@pytest.mark.parametrize("name", ["../outside.jpg", "/etc/hostname", "\0.jpg", "x" * 300, "dir.jpg"])
def test_karpathy_file_names_that_escape_or_do_not_name_a_file_are_one_line(karpathy_dir, name):
    from edge_bench.data.karpathy import load_karpathy
    from edge_bench.errors import DataError

    doc = {"images": [_image(name)]}
    (karpathy_dir / "dataset_flickr30k.json").write_text(json.dumps(doc))
    with pytest.raises(DataError) as caught:
        load_karpathy("flickr30k", karpathy_dir, "test")
    one_line(caught.value)


@FAST
@given(text=karpathy_texts, split=SPLITS)
def test_karpathy_loader_fuzz(karpathy_dir, text, split):
    check_karpathy_text(karpathy_dir, text, split)


@pytest.mark.slow
@FULL
@given(text=karpathy_texts, split=SPLITS)
def test_karpathy_loader_fuzz_10k(karpathy_dir, text, split):
    check_karpathy_text(karpathy_dir, text, split)
