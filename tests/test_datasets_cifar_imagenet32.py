"""CIFAR-10 (binary version) and Downsampled ImageNet 32x32: small files in the real formats, decoding,
checksums, downloads from a loopback HTTP server, safe extraction, and the messages for a missing dataset."""

from __future__ import annotations

import ast
import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dlbench.runner.data import cifar10, datasets, imagenet32
from dlbench.runner.data.cifar10 import CifarSpec
from dlbench.runner.data.datasets import DatasetError
from dlbench.runner.data.imagenet32 import Imagenet32Spec, SplitSpec
from test_datasets import FAST, Server, leftovers

RECORDS = 10  # records per CIFAR file in these tests (the real files hold 10,000)
BIN_NAMES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
ARCHIVE = "cifar-10-binary.tar.gz"
REAL_CIFAR_SHA = "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd"


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def tree(folder: Path) -> list[str]:
    """Every path below `folder`, relative to it, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum(digests: dict[str, str]) -> str:
    """The dataset checksum as documented: SHA-256 of the hex digests sorted by name, concatenated."""
    return sha("".join(digests[k] for k in sorted(digests)).encode("ascii"))


# ---------------------------------------------------------------- CIFAR-10

class FakeCifar:
    """Six small CIFAR-10 binary files (`records` records each) and the .tar.gz holding them."""

    def __init__(self, records: int = RECORDS, seed: int = 1, compresslevel: int = 9):
        rng = np.random.default_rng(seed)
        self.labels = {n: rng.integers(0, 10, records, dtype=np.uint8) for n in BIN_NAMES}
        self.planar = {n: rng.integers(0, 256, (records, 3, 32, 32), dtype=np.uint8) for n in BIN_NAMES}
        self.bins = {}
        for n in BIN_NAMES:
            rows = np.concatenate([self.labels[n][:, None], self.planar[n].reshape(records, 3072)], axis=1)
            self.bins[n] = rows.tobytes()
        self.tar = make_tar(self.members(), compresslevel=compresslevel)

    def members(self) -> list[tuple[tarfile.TarInfo, bytes | None]]:
        """The members of the real archive: the folder, the six .bin files and two other files."""
        folder = tarfile.TarInfo("cifar-10-batches-bin")
        folder.type = tarfile.DIRTYPE
        folder.mode = 0o755
        out = [(folder, None), (regular("cifar-10-batches-bin/batches.meta.txt"), b"airplane\nautomobile\n")]
        out += [(regular(f"cifar-10-batches-bin/{n}"), self.bins[n]) for n in BIN_NAMES]
        out.append((regular("cifar-10-batches-bin/readme.html"), b"<html></html>"))
        return out

    def spec(self, tar: bytes | None = None, mirrors=()) -> CifarSpec:
        tar = self.tar if tar is None else tar
        return CifarSpec(archive_size=len(tar), archive_sha256=sha(tar), mirrors=tuple(mirrors),
                         records_per_file=RECORDS)

    def place_folder(self, cache: Path) -> Path:
        folder = cache / "cifar-10-batches-bin"
        folder.mkdir(parents=True)
        for n, data in self.bins.items():
            (folder / n).write_bytes(data)
        return folder

    def expected_sha256(self) -> str:
        return checksum({n: sha(b) for n, b in self.bins.items()})

    def check(self, arrays: datasets.Arrays) -> None:
        assert isinstance(arrays, datasets.Arrays)
        assert arrays.name == "cifar-10"
        assert arrays.train_x.shape == (5 * RECORDS, 32, 32, 3) and arrays.train_x.dtype == np.uint8
        assert arrays.test_x.shape == (RECORDS, 32, 32, 3) and arrays.test_x.dtype == np.uint8
        assert arrays.train_y.dtype == np.int64 and arrays.test_y.dtype == np.int64
        hwc = {n: np.moveaxis(self.planar[n], 1, -1) for n in BIN_NAMES}
        assert np.array_equal(arrays.train_x, np.concatenate([hwc[n] for n in BIN_NAMES[:5]]))
        assert np.array_equal(arrays.train_y, np.concatenate([self.labels[n] for n in BIN_NAMES[:5]]))
        assert np.array_equal(arrays.test_x, hwc["test_batch.bin"])
        assert np.array_equal(arrays.test_y, self.labels["test_batch.bin"])
        assert arrays.sha256 == self.expected_sha256()


def regular(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode = 0o644
    return info


def make_tar(members: list[tuple[tarfile.TarInfo, bytes | None]], compresslevel: int = 9) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=compresslevel) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def test_spec_matches_the_published_archive():
    assert cifar10.SPEC.file_size == 30_730_000
    assert cifar10.SPEC.archive_size == 170_052_171
    assert cifar10.SPEC.archive_sha256 == REAL_CIFAR_SHA
    assert cifar10.SPEC.files == tuple(BIN_NAMES)
    assert cifar10.SPEC.mirrors == ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",)


def test_known_byte_lands_at_its_height_width_channel(tmp_path):
    fake = FakeCifar()
    data = bytearray(fake.bins["data_batch_2.bin"])
    record, c, h, w = 3, 1, 5, 7  # green plane, row 5, column 7 of the 4th record
    data[record * 3073 + 1 + c * 1024 + h * 32 + w] = 201
    data[record * 3073 + 1 + 2 * 1024 + 31 * 32 + 0] = 17   # blue, bottom-left corner
    data[record * 3073] = 9                                 # its label
    fake.bins["data_batch_2.bin"] = bytes(data)
    fake.place_folder(tmp_path / "cifar-10")
    arrays = cifar10.load(tmp_path, spec=fake.spec(), mirrors=[])
    n = RECORDS + record  # the second file's records follow the first's
    assert arrays.train_x[n, h, w, c] == 201
    assert arrays.train_x[n, 31, 0, 2] == 17
    assert arrays.train_y[n] == 9
    assert arrays.sha256 == fake.expected_sha256()


def test_placed_archive_is_extracted_safely_and_only_the_six_files(tmp_path):
    fake = FakeCifar()
    cache = tmp_path / "cifar-10"
    cache.mkdir()
    (cache / ARCHIVE).write_bytes(fake.tar)
    arrays = cifar10.load(tmp_path, spec=fake.spec(), mirrors=[])
    fake.check(arrays)
    assert arrays.source == str(cache / "cifar-10-batches-bin")
    assert tree(cache) == sorted([ARCHIVE, "cifar-10-batches-bin", *(f"cifar-10-batches-bin/{n}" for n in BIN_NAMES)])
    assert tree(cache / "cifar-10-batches-bin") == BIN_NAMES  # not batches.meta.txt nor readme.html
    for n in BIN_NAMES:
        assert (cache / "cifar-10-batches-bin" / n).read_bytes() == fake.bins[n]


def test_extracted_folder_alone_is_accepted_with_the_same_checksum(tmp_path):
    fake = FakeCifar()
    fake.place_folder(tmp_path / "cifar-10")
    fake.check(cifar10.load(tmp_path, spec=fake.spec(), mirrors=[]))


def test_checksum_definition_is_independent_of_compression(tmp_path):
    fake = FakeCifar()
    recompressed = make_tar(fake.members()[::-1], compresslevel=1)  # other order, other compression
    (tmp_path / "a" / "cifar-10").mkdir(parents=True)
    (tmp_path / "a" / "cifar-10" / ARCHIVE).write_bytes(recompressed)
    a = cifar10.load(tmp_path / "a", spec=fake.spec(recompressed), mirrors=[])
    (tmp_path / "b" / "cifar-10").mkdir(parents=True)
    (tmp_path / "b" / "cifar-10" / ARCHIVE).write_bytes(fake.tar)
    b = cifar10.load(tmp_path / "b", spec=fake.spec(), mirrors=[])
    assert recompressed != fake.tar
    digests = {n: sha(fake.bins[n]) for n in BIN_NAMES}
    expected = sha("".join(digests[n] for n in sorted(BIN_NAMES)).encode())
    assert a.sha256 == b.sha256 == expected == datasets.combined_sha256(digests)


def test_download_skips_a_wrong_checksum_mirror_and_caches(tmp_path, server):
    fake = FakeCifar()
    server.files[f"/bad/{ARCHIVE}"] = fake.tar[:-9] + b"corrupted"
    server.files[f"/good/{ARCHIVE}"] = fake.tar
    mirrors = [f"{server.url}/bad/", f"{server.url}/good/{ARCHIVE}"]
    fake.check(cifar10.load(tmp_path, spec=fake.spec(), mirrors=mirrors, **FAST))
    assert server.requests == [f"/bad/{ARCHIVE}", f"/good/{ARCHIVE}"]  # a mismatch is not retried
    cache = tmp_path / "cifar-10"
    assert (cache / ARCHIVE).read_bytes() == fake.tar
    assert not [p for p in tree(cache) if "/." in f"/{p}"]
    fake.check(cifar10.load(tmp_path, spec=fake.spec(), mirrors=mirrors, **FAST))
    assert len(server.requests) == 2  # the second load made no request


def test_registered_by_name_in_datasets(tmp_path, server, monkeypatch):
    fake = FakeCifar()
    server.files[f"/m/{ARCHIVE}"] = fake.tar
    monkeypatch.setattr(cifar10, "SPEC", fake.spec(mirrors=[f"{server.url}/m/"]))
    fake.check(datasets.load("cifar-10", tmp_path, **FAST))
    assert server.requests == [f"/m/{ARCHIVE}"]


def test_interrupted_download_leaves_no_file_under_the_final_name(tmp_path, server):
    fake = FakeCifar()
    server.files[f"/cut/{ARCHIVE}"] = fake.tar
    server.truncate[f"/cut/{ARCHIVE}"] = 100
    size = len(fake.tar)
    with pytest.raises(DatasetError, match=f"connection closed after {size // 2} of {size} bytes"):
        cifar10.load(tmp_path, spec=fake.spec(), mirrors=[f"{server.url}/cut/"], **FAST)
    assert leftovers(tmp_path / "cifar-10") == []
    assert server.requests.count(f"/cut/{ARCHIVE}") == 2  # first try + one retry


def test_corrupt_placed_archive_is_replaced_by_a_download(tmp_path, server):
    fake = FakeCifar()
    cache = tmp_path / "cifar-10"
    cache.mkdir()
    (cache / ARCHIVE).write_bytes(fake.tar[:-1] + b"x")
    server.files[f"/fix/{ARCHIVE}"] = fake.tar
    fake.check(cifar10.load(tmp_path, spec=fake.spec(), mirrors=[f"{server.url}/fix/"], **FAST))
    assert (cache / ARCHIVE).read_bytes() == fake.tar


def test_damaged_extracted_file_is_re_extracted_from_the_archive(tmp_path):
    fake = FakeCifar()
    cache = tmp_path / "cifar-10"
    folder = fake.place_folder(cache)
    (folder / "data_batch_3.bin").write_bytes(fake.bins["data_batch_3.bin"][:-1])
    (cache / ARCHIVE).write_bytes(fake.tar)
    fake.check(cifar10.load(tmp_path, spec=fake.spec(), mirrors=[]))
    assert (folder / "data_batch_3.bin").read_bytes() == fake.bins["data_batch_3.bin"]


def test_wrong_size_file_without_archive_names_the_file(tmp_path):
    fake = FakeCifar()
    folder = fake.place_folder(tmp_path / "cifar-10")
    (folder / "test_batch.bin").write_bytes(fake.bins["test_batch.bin"] + b"\0")
    with pytest.raises(DatasetError) as info:
        cifar10.load(tmp_path, spec=fake.spec(), mirrors=[])
    message = str(info.value)
    assert f"{folder / 'test_batch.bin'}: {RECORDS * 3073 + 1} bytes, expected {RECORDS * 3073}" in message
    assert f"put it in {tmp_path / 'cifar-10'}/" in message


def test_label_out_of_range_is_refused(tmp_path):
    fake = FakeCifar()
    data = bytearray(fake.bins["data_batch_1.bin"])
    data[4 * 3073] = 10
    fake.bins["data_batch_1.bin"] = bytes(data)
    fake.place_folder(tmp_path / "cifar-10")
    with pytest.raises(DatasetError, match="data_batch_1.bin: record 4 has label 10; CIFAR-10 labels are 0..9"):
        cifar10.load(tmp_path, spec=fake.spec(), mirrors=[])


def _link(name: str, kind: bytes, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "hardlink", "device"])
def test_unsafe_member_refuses_the_whole_archive(tmp_path, kind):
    fake = FakeCifar()
    data_dir = tmp_path / "data"
    absolute = tmp_path / "absolute-evil"
    evil = {
        "dotdot": (regular("cifar-10-batches-bin/../../evil"), b"evil"),
        "absolute": (regular(str(absolute)), b"evil"),
        "symlink": (_link("cifar-10-batches-bin/data_batch_1.bin", tarfile.SYMTYPE, "/etc/passwd"), None),
        "hardlink": (_link("cifar-10-batches-bin/hard", tarfile.LNKTYPE, "../../evil"), None),
        "device": (_device("cifar-10-batches-bin/null"), None),
    }[kind]
    members = fake.members()
    members.insert(len(members) - 1, evil)  # after the six good files
    tar = make_tar(members)
    cache = data_dir / "cifar-10"
    cache.mkdir(parents=True)
    (cache / ARCHIVE).write_bytes(tar)
    with pytest.raises(DatasetError) as info:
        cifar10.load(data_dir, spec=fake.spec(tar), mirrors=[])
    message = str(info.value)
    assert f"{cache / ARCHIVE}: refused to extract: member {evil[0].name!r} is " in message
    assert {"dotdot": "'..'", "absolute": "absolute path", "symlink": "symbolic link", "hardlink": "hard link",
            "device": "device"}[kind] in message
    assert "nothing was extracted" in message
    assert tree(cache) == [ARCHIVE]  # no folder, no temporary folder
    assert tree(tmp_path) == ["data", "data/cifar-10", f"data/cifar-10/{ARCHIVE}"]
    assert not absolute.exists()


def test_missing_dataset_says_what_to_put_where(tmp_path):
    with pytest.raises(DatasetError) as info:
        datasets.load("cifar-10", tmp_path, mirrors=[])
    message = str(info.value)
    cache = tmp_path / "cifar-10"
    assert message.startswith("cifar-10: could not download cifar-10-binary.tar.gz:")
    assert f"put it in {cache}/" in message
    assert f"cifar-10-binary.tar.gz  (170052171 bytes, sha256 {REAL_CIFAR_SHA})" in message
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in message
    assert f"{cache / 'cifar-10-batches-bin'}/ holds {', '.join(BIN_NAMES)} (30730000 bytes each)" in message


def test_unknown_dataset_lists_the_new_ones():
    with pytest.raises(DatasetError, match="known datasets: fashion-mnist, mnist, cifar-10, imagenet32$"):
        datasets.load("nope")


# ---------------------------------------------------------------- Imagenet32

def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():  # a fixed date: the same members make the same bytes
            zf.writestr(zipfile.ZipInfo(name, date_time=(2017, 7, 1, 0, 0, 0)), data, compress_type=compression)
    return buf.getvalue()


class FakeImagenet32:
    """Tiny Imagenet32 zips: train batches of 4, 3 and 5 images, a val batch of 2."""

    TRAIN = {"Imagenet32_train_npz/train_data_batch_1.npz": 4, "Imagenet32_train_npz/train_data_batch_2.npz": 3,
             "Imagenet32_train_npz/train_data_batch_10.npz": 5}
    VAL = {"val_data.npz": 2}  # at the top of its zip: member folders do not matter

    def __init__(self):
        rng = np.random.default_rng(2)
        self.data, self.labels = {}, {}
        for name, n in {**self.TRAIN, **self.VAL}.items():
            self.data[name] = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            self.labels[name] = rng.integers(1, 1001, n).tolist()  # a list, as the authors saved them
        self.labels["Imagenet32_train_npz/train_data_batch_1.npz"][0] = 1000
        self.labels["Imagenet32_train_npz/train_data_batch_1.npz"][1] = 1
        self.npz = {name: self.encode(name) for name in self.data}

    def encode(self, name: str) -> bytes:
        extra = {"mean": self.data[name].mean(axis=0)} if name in self.TRAIN else {}
        return npz(data=self.data[name], labels=self.labels[name], **extra)

    def zips(self) -> tuple[bytes, bytes]:
        train = make_zip({"Imagenet32_train_npz/": b"", **{n: self.npz[n] for n in self.TRAIN},
                          "Imagenet32_train_npz/README.txt": b"not data"}, zipfile.ZIP_DEFLATED)
        return train, make_zip({n: self.npz[n] for n in self.VAL})

    def spec(self, train_zip: bytes | None = None, val_zip: bytes | None = None, counts=(12, 2)) -> Imagenet32Spec:
        train, val = self.zips()
        train, val = train_zip or train, val_zip or val
        return Imagenet32Spec(train=SplitSpec("train", "Imagenet32_train_npz.zip", len(train), sha(train), counts[0]),
                              val=SplitSpec("val", "Imagenet32_val_npz.zip", len(val), sha(val), counts[1]))

    def place_zips(self, data_dir: Path, train: bytes | None = None, val: bytes | None = None) -> Path:
        folder = data_dir / "imagenet32"
        folder.mkdir(parents=True)
        good_train, good_val = self.zips()
        (folder / "Imagenet32_train_npz.zip").write_bytes(train or good_train)
        (folder / "Imagenet32_val_npz.zip").write_bytes(val or good_val)
        return folder

    def order(self, names) -> list[str]:
        return sorted(names, key=lambda n: n.rsplit("/", 1)[-1])

    def expected_sha256(self) -> str:
        keys = {f"train/{n.rsplit('/', 1)[-1]}": sha(self.npz[n]) for n in self.TRAIN}
        keys.update({f"val/{n}": sha(self.npz[n]) for n in self.VAL})
        return checksum(keys)

    def check(self, arrays: datasets.Arrays) -> None:
        assert isinstance(arrays, datasets.Arrays)
        assert arrays.name == "imagenet32"
        for (x, y), names in (((arrays.train_x, arrays.train_y), self.TRAIN), ((arrays.test_x, arrays.test_y),
                                                                               self.VAL)):
            order = self.order(names)
            planar = np.concatenate([self.data[n] for n in order]).reshape(-1, 3, 32, 32)
            assert x.dtype == np.uint8 and x.shape == (len(planar), 32, 32, 3)
            assert np.array_equal(x, np.moveaxis(planar, 1, -1))
            assert y.dtype == np.int64
            assert y.tolist() == [label - 1 for n in order for label in self.labels[n]]
        assert arrays.sha256 == self.expected_sha256()


def test_imagenet32_zips_decode_in_name_order(tmp_path):
    fake = FakeImagenet32()
    batch2 = "Imagenet32_train_npz/train_data_batch_2.npz"
    fake.data[batch2][1, 2 * 1024 + 31 * 32 + 0] = 123  # image 1 of batch 2: blue, bottom-left
    fake.data[batch2][1, 0 * 1024 + 0 * 32 + 5] = 45    # red, top row, column 5
    fake.npz[batch2] = fake.encode(batch2)
    folder = fake.place_zips(tmp_path)
    arrays = imagenet32.load(tmp_path, spec=fake.spec())
    fake.check(arrays)
    # sorted by file name: train_data_batch_1 (4 images), train_data_batch_10 (5), train_data_batch_2 (3)
    assert arrays.train_x[4 + 5 + 1, 31, 0, 2] == 123
    assert arrays.train_x[4 + 5 + 1, 0, 5, 0] == 45
    assert arrays.train_y[0] == 999 and arrays.train_y[1] == 0  # labels 1000 and 1
    assert arrays.source == str(folder)
    assert tree(folder) == ["Imagenet32_train_npz.zip", "Imagenet32_val_npz.zip"]  # nothing extracted


def test_imagenet32_checksum_is_the_same_for_extracted_files(tmp_path):
    fake = FakeImagenet32()
    fake.place_zips(tmp_path / "zips")
    from_zips = imagenet32.load(tmp_path / "zips", spec=fake.spec())
    folder = tmp_path / "files" / "imagenet32"
    for name in fake.TRAIN:  # unzip -d Imagenet32_train_npz: one folder deeper, as the zip's own folder
        path = folder / "Imagenet32_train_npz" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fake.npz[name])
    (folder / "Imagenet32_val_npz").mkdir()
    (folder / "Imagenet32_val_npz" / "val_data.npz").write_bytes(fake.npz["val_data.npz"])
    from_files = imagenet32.load(tmp_path / "files", spec=fake.spec())
    fake.check(from_files)
    assert from_files.sha256 == from_zips.sha256 == fake.expected_sha256()


def test_imagenet32_registered_by_name_in_datasets(tmp_path, monkeypatch):
    fake = FakeImagenet32()
    fake.place_zips(tmp_path)
    monkeypatch.setattr(imagenet32, "SPEC", fake.spec())
    fake.check(datasets.load("imagenet32", tmp_path))


def test_imagenet32_missing_says_where_to_get_it_and_where_to_put_it(tmp_path):
    with pytest.raises(DatasetError) as info:
        datasets.load("imagenet32", tmp_path)
    message = str(info.value)
    folder = tmp_path / "imagenet32"
    assert message.startswith(f"imagenet32: Downsampled ImageNet 32x32 is not usable in {folder}/:")
    assert "never downloaded" in message
    assert "https://image-net.org/download-images" in message and "ImageNet terms" in message
    assert f"put these files in {folder}/" in message
    assert ("Imagenet32_train_npz.zip  (3580435279 bytes, sha256 "
            "94226337ecc1b0309d9fcd0167127aaadc931587035fbcb53925235edbaec4fc)") in message
    assert ("Imagenet32_val_npz.zip  (139697668 bytes, sha256 "
            "013990e6dec1237dcd1f9beadbab81ead6604cc119af5cacbfb59ae28148377a)") in message
    assert f"{folder / 'Imagenet32_train_npz'}/ and {folder / 'Imagenet32_val_npz'}/" in message
    assert not folder.exists()  # nothing created, nothing downloaded


def test_imagenet32_one_split_missing(tmp_path):
    fake = FakeImagenet32()
    folder = fake.place_zips(tmp_path)
    (folder / "Imagenet32_val_npz.zip").unlink()
    with pytest.raises(DatasetError) as info:
        imagenet32.load(tmp_path, spec=fake.spec())
    message = str(info.value)
    assert f"val: neither {folder / 'Imagenet32_val_npz.zip'} nor {folder / 'Imagenet32_val_npz'}/ found" in message
    assert "train:" not in message


def test_imagenet32_wrong_size_or_checksum_zip_is_refused(tmp_path):
    fake = FakeImagenet32()
    train, val = fake.zips()
    folder = fake.place_zips(tmp_path / "a", val=val + b"\0")
    with pytest.raises(DatasetError, match=f"{folder / 'Imagenet32_val_npz.zip'}: {len(val) + 1} bytes, expected "
                                           f"{len(val)}"):
        imagenet32.load(tmp_path / "a", spec=fake.spec())
    flipped = train[:100] + bytes([train[100] ^ 1]) + train[101:]
    folder = fake.place_zips(tmp_path / "b", train=flipped)
    with pytest.raises(DatasetError, match=f"{folder / 'Imagenet32_train_npz.zip'}: checksum mismatch"):
        imagenet32.load(tmp_path / "b", spec=fake.spec())
    assert (folder / "Imagenet32_train_npz.zip").read_bytes() == flipped  # the user's file is left alone


@pytest.mark.parametrize("label", [0, 1001])
def test_imagenet32_out_of_range_label_is_refused(tmp_path, label):
    fake = FakeImagenet32()
    fake.labels["val_data.npz"][1] = label
    fake.npz["val_data.npz"] = fake.encode("val_data.npz")
    fake.place_zips(tmp_path)
    with pytest.raises(DatasetError) as info:
        imagenet32.load(tmp_path, spec=fake.spec())
    assert str(info.value) == (f"imagenet32: {tmp_path / 'imagenet32' / 'Imagenet32_val_npz.zip'}:val_data.npz: "
                               f"label {label} at index 1 is out of range; Imagenet32 labels are 1..1000")


def test_imagenet32_image_count_must_match(tmp_path):
    fake = FakeImagenet32()
    fake.place_zips(tmp_path)
    with pytest.raises(DatasetError, match="train: the .npz files hold 12 images, expected 13"):
        imagenet32.load(tmp_path, spec=fake.spec(counts=(13, 2)))
    with pytest.raises(DatasetError, match="hold more than the 1 images of the val split"):
        imagenet32.load(tmp_path, spec=fake.spec(counts=(12, 1)))


class _Armed:
    """Unpickling this creates the folder `path`: proof that a pickle was loaded."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return os.mkdir, (self.path,)


def test_imagenet32_pickled_object_array_is_refused_never_loaded(tmp_path):
    fake = FakeImagenet32()
    probe = tmp_path / "probe-unpickled"
    armed = npz(data=fake.data["val_data.npz"], labels=np.array([_Armed(probe), 2], dtype=object))
    np.load(io.BytesIO(armed), allow_pickle=True)["labels"]  # the fixture works: unpickling runs code
    assert probe.is_dir()

    marker = tmp_path / "unpickled"
    fake.npz["val_data.npz"] = npz(data=fake.data["val_data.npz"],
                                   labels=np.array([_Armed(marker), 2], dtype=object))
    fake.place_zips(tmp_path / "data")
    with pytest.raises(DatasetError, match="val_data.npz: holds an array of Python objects, which is never loaded"):
        imagenet32.load(tmp_path / "data", spec=fake.spec())
    assert not marker.exists()


def test_imagenet32_plain_pickle_member_is_refused(tmp_path):
    import pickle

    fake = FakeImagenet32()
    fake.npz["val_data.npz"] = pickle.dumps({"data": fake.data["val_data.npz"], "labels": [1, 2]})
    fake.place_zips(tmp_path)
    with pytest.raises(DatasetError, match=r"val_data.npz: not an .npz archive \(a pickle or an unknown format"):
        imagenet32.load(tmp_path, spec=fake.spec())


@pytest.mark.parametrize("module", [cifar10, imagenet32])
def test_sources_never_allow_pickle(module):
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    loads = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr == "load" and isinstance(node.func.value, ast.Name) and node.func.value.id == "np"]
    for call in loads:
        flags = {k.arg: k.value for k in call.keywords}
        assert isinstance(flags.get("allow_pickle"), ast.Constant) and flags["allow_pickle"].value is False
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in node.names} | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "pickle" not in imported
    assert len(loads) == (1 if module is imagenet32 else 0)
