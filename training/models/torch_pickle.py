"""Read a PyTorch ``.pth`` state dict into numpy arrays without installing torch.

Only the tensor layouts a plain ``torch.save(model.state_dict())`` writes are understood: the
legacy stream format (pickle header, pickled dict, then raw storages) and the zip format. The
unpickler admits nothing but an ordered dict, the tensor rebuild function and storage types, so a
hostile file cannot run code (never a bare ``pickle.load`` of a file from elsewhere).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from realtime.core.errors import HandSignError

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class TorchFileError(HandSignError):
    """The file is not a PyTorch state dict this reader understands."""


class _StorageType:
    def __init__(self, name: str) -> None:
        self.dtype = np.dtype(_DTYPES[name])


class _LazyTensor:
    """A tensor whose storage bytes come later in the stream."""

    def __init__(self, storage_key: str, offset: int, shape: tuple, stride: tuple) -> None:
        self.storage_key, self.offset, self.shape, self.stride = storage_key, offset, shape, stride

    def materialise(self, storages: dict[str, np.ndarray]) -> np.ndarray:
        flat = storages[self.storage_key]
        if not self.shape:
            return flat[self.offset].copy()
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], shape=self.shape, strides=tuple(s * itemsize for s in self.stride))
        return np.ascontiguousarray(view)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, *_ignored) -> _LazyTensor:
    return _LazyTensor(storage, int(storage_offset), tuple(size), tuple(stride))


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, fh, storages_meta: dict) -> None:
        super().__init__(fh)
        self.storages_meta = storages_meta

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a weights file")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, storage_type, key, _location, numel = pid[:5]
        self.storages_meta[str(key)] = (storage_type.dtype, int(numel))
        return str(key)


def _load_legacy(fh) -> dict[str, np.ndarray]:
    magic = pickle.load(fh)  # plain ints and a dict of sizes: safe types only
    if magic != _LEGACY_MAGIC:
        raise TorchFileError("not a PyTorch file (wrong magic number)")
    pickle.load(fh)  # protocol version
    sys_info = pickle.load(fh)
    if isinstance(sys_info, dict) and not sys_info.get("little_endian", True):
        raise TorchFileError("big-endian PyTorch files are not supported")
    meta: dict[str, tuple[np.dtype, int]] = {}
    state = _RestrictedUnpickler(fh, meta).load()
    keys = pickle.load(fh)
    storages = {}
    for key in keys:
        dtype, numel = meta[str(key)]
        count = int(np.frombuffer(fh.read(8), "<i8")[0])
        if count != numel:
            raise TorchFileError(f"storage {key}: {count} elements, expected {numel}")
        storages[str(key)] = np.frombuffer(fh.read(count * dtype.itemsize), dtype=dtype)
    return _materialise(state, storages)


def _load_zip(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise TorchFileError(f"{path}: zip without data.pkl")
        prefix = pkl[: -len("data.pkl")]
        meta: dict[str, tuple[np.dtype, int]] = {}
        state = _RestrictedUnpickler(io.BytesIO(zf.read(pkl)), meta).load()
        storages = {key: np.frombuffer(zf.read(f"{prefix}data/{key}"), dtype=dtype)
                    for key, (dtype, _n) in meta.items()}
    return _materialise(state, storages)


def _materialise(state, storages) -> dict[str, np.ndarray]:
    if not isinstance(state, dict):
        raise TorchFileError("the file does not hold a state dict")
    return {name: t.materialise(storages) for name, t in state.items() if isinstance(t, _LazyTensor)}


def load_state_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Tensors of a ``.pth`` state dict, in file order, as contiguous numpy arrays."""
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            return _load_zip(path)
        with open(path, "rb") as fh:
            return _load_legacy(fh)
    except TorchFileError:
        raise
    except (OSError, EOFError, KeyError, ValueError, IndexError, pickle.UnpicklingError) as exc:
        raise TorchFileError(f"cannot read {path} as a PyTorch state dict: {exc}") from None
