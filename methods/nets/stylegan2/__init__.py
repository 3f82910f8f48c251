"""Pure-PyTorch StyleGAN2: generator/discriminator, official-checkpoint loaders, zoo component.

* :class:`Generator` / :class:`Discriminator` - the networks (rosinality parameter names).
* :data:`EMBEDDED_CONFIG` - the shipped embedded-tier architecture (64 px, 128-d W).
* :func:`load_generator` - the shipped embedded-tier generator (zoo component ``stylegan2``).
* :mod:`methods.nets.stylegan2.official` - rosinality ``.pt`` and NVIDIA ``.pkl`` loaders (no code runs).
* the trainer (``bench train stylegan2``) is :mod:`methods.training.stylegan2`, the quality report
  (sample sheet, FD-VGG16, inversion LPIPS) :mod:`methods.training.stylegan2_report`.
"""
from .discriminator import Discriminator
from .generator import EMBEDDED_CONFIG, Generator, normalize_config

__all__ = ["Generator", "Discriminator", "EMBEDDED_CONFIG", "normalize_config", "load_generator", "load_discriminator",
           "build_discriminator"]


def build_discriminator(config: dict) -> Discriminator:
    """The discriminator trained with a generator (zoo component ``stylegan2-discriminator``):
    config {resolution, channels, generator_sha256}; the digest names the generator it judged."""
    cfg = dict(config)
    digest = str(cfg.pop("generator_sha256", ""))
    D = Discriminator(int(cfg["resolution"]), channels=cfg.get("channels"))
    D.generator_sha256 = digest
    return D


def load_discriminator(path=None, device: str = "cpu") -> Discriminator:
    """The shipped (or given) `stylegan2-discriminator` checkpoint, eval mode."""
    from methods.zoo import load_model

    return load_model("stylegan2-discriminator", path, device=device)


def load_generator(path=None, device: str = "cpu") -> Generator:
    """The shipped (or given) `stylegan2` checkpoint as an eval-mode float32 Generator."""
    from methods.zoo import load_model

    return load_model("stylegan2", path, device=device)
