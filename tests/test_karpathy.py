"""Flickr30k / MSCOCO loaders on small data written in the real formats."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edge_bench.data import load_dataset
from edge_bench.data.preprocess import preprocess_images
from edge_bench.errors import DataError
from edge_bench.models.base import Preprocess
from helpers import write_karpathy


@pytest.mark.parametrize("name", ["flickr30k", "mscoco"])
def test_loads_test_split_with_every_caption(tmp_path, name):
    write_karpathy(tmp_path, name, {"train": 3, "restval": 2, "val": 1, "test": 4})
    ds = load_dataset(name, "test", data_dir=tmp_path)
    assert ds.n_images == 4 and ds.n_captions == 20
    assert list(ds.caption_image) == [i for i in range(4) for _ in range(5)]
    assert ds.captions[5] == "Image 7 caption 0."  # test images come after train(3)+restval(2)+val(1)
    train = load_dataset(name, "train", data_dir=tmp_path)
    assert train.n_images == 5  # restval counts as train, as in Karpathy's split


def test_preprocess_real_jpegs_and_cache(tmp_path, isolated_home):
    write_karpathy(tmp_path)
    ds = load_dataset("flickr30k", "test", data_dir=tmp_path)
    pp = Preprocess(size=32)
    arr = preprocess_images(ds, pp)
    assert arr.shape == (6, 3, 32, 32) and arr.dtype == np.uint8
    cached = list((isolated_home / "cache" / "preprocessed").glob("*.npy"))
    assert len(cached) == 1
    assert np.array_equal(np.load(cached[0]), arr)
    assert arr.std() > 10  # real image content, not zeros


def test_missing_json(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_dataset("flickr30k", "test", data_dir=tmp_path)


def test_missing_data_dir():
    with pytest.raises(DataError, match="needs --data-dir"):
        load_dataset("mscoco", "test")


def test_malformed_json(tmp_path):
    (tmp_path / "dataset_flickr30k.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_dataset("flickr30k", "test", data_dir=tmp_path)


def test_wrong_structure(tmp_path):
    (tmp_path / "dataset_flickr30k.json").write_text(json.dumps({"images": [{"split": "test"}]}))
    with pytest.raises(DataError, match="lacks 'filename'"):
        load_dataset("flickr30k", "test", data_dir=tmp_path)


def test_empty_split(tmp_path):
    write_karpathy(tmp_path, splits={"train": 2})
    with pytest.raises(DataError, match="'test' split is empty"):
        load_dataset("flickr30k", "test", data_dir=tmp_path)


def test_missing_image_file(tmp_path):
    write_karpathy(tmp_path)
    (tmp_path / "flickr30k-images" / "00008.jpg").unlink()
    with pytest.raises(DataError, match="1 of 6 flickr30k test images are missing"):
        load_dataset("flickr30k", "test", data_dir=tmp_path)


def test_image_that_does_not_decode(tmp_path):
    write_karpathy(tmp_path)
    (tmp_path / "flickr30k-images" / "00007.jpg").write_bytes(b"\xff\xd8 truncated jpeg")
    ds = load_dataset("flickr30k", "test", data_dir=tmp_path)
    with pytest.raises(DataError, match="does not decode.*00007.jpg"):
        preprocess_images(ds, Preprocess(size=16), cache=False)


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("imagenet")


def test_a_replaced_image_invalidates_the_cache(tmp_path, isolated_home):
    import os

    write_karpathy(tmp_path)
    pp = Preprocess(size=16)
    first = preprocess_images(load_dataset("flickr30k", "test", data_dir=tmp_path), pp)
    image = tmp_path / "flickr30k-images" / "00006.jpg"
    from PIL import Image

    Image.new("RGB", (40, 40), (255, 0, 0)).save(image)
    os.utime(image, ns=(1, 1))  # a different mtime even on coarse clocks
    second = preprocess_images(load_dataset("flickr30k", "test", data_dir=tmp_path), pp)
    assert not np.array_equal(first[0], second[0])
    assert (second[0][0] > 200).all() and np.array_equal(first[1:], second[1:])


def test_a_decompression_bomb_is_one_line_not_a_traceback(tmp_path, monkeypatch):
    from PIL import Image

    write_karpathy(tmp_path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # the images are 48-96 px a side: > 2x the limit
    ds = load_dataset("flickr30k", "test", data_dir=tmp_path)
    with pytest.raises(DataError, match=r"image refused as a decompression bomb: .*00006.jpg") as caught:
        preprocess_images(ds, Preprocess(size=16), cache=False)
    assert "\n" not in caught.value.message and "MAX_IMAGE_PIXELS" in caught.value.hint


@pytest.mark.parametrize("content", [b"", b"\x89PNG\r\n\x1a\n" + b"\0" * 30, b"GIF89a\xff\xff\xff\xff", b"BM" + b"\xff" * 60])
def test_every_broken_image_is_one_line(tmp_path, content):
    write_karpathy(tmp_path)
    (tmp_path / "flickr30k-images" / "00006.jpg").write_bytes(content)
    ds = load_dataset("flickr30k", "test", data_dir=tmp_path)
    with pytest.raises(DataError, match="image does not decode: .*00006.jpg") as caught:
        ds.load_image(0)
    assert "\n" not in caught.value.message
