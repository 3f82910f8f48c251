"""Pure-PyTorch StyleGAN2: generator/discriminator, official-checkpoint loaders, zoo component.

* :class:`Generator` / :class:`Discriminator` - the networks (rosinality parameter names).
* :func:`load_generator` - the shipped embedded-tier generator (zoo component ``stylegan2``).
* :mod:`methods.nets.stylegan2.official` - rosinality ``.pt`` and NVIDIA ``.pkl`` loaders (no code runs).
* :mod:`methods.nets.stylegan2.component` - registers ``stylegan2`` for ``bench train``.
* :mod:`methods.nets.stylegan2.report` - quality report (sample sheet, FD-VGG16, inversion LPIPS).
"""
from .discriminator import Discriminator
from .generator import Generator, normalize_config

__all__ = ["Generator", "Discriminator", "normalize_config", "load_generator"]


def load_generator(path=None, device: str = "cpu") -> Generator:
    """The shipped (or given) `stylegan2` checkpoint as an eval-mode float32 Generator."""
    import methods.nets.stylegan2.component  # noqa: F401  (registers the component)
    from methods.zoo import load_model

    return load_model("stylegan2", path, device=device)
