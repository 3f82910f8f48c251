"""Registers the `stylegan2` zoo component (import this module to make `bench train stylegan2` work)."""
from __future__ import annotations

from methods.zoo import Component, register_component

from .generator import Generator, normalize_config
from .train import EMBEDDED_CONFIG, train


def build(config: dict) -> Generator:
    return Generator(config)


COMPONENT = register_component(Component(
    name="stylegan2",
    summary="StyleGAN2 generator (64 px SynthFaces, 128-d W, skip ToRGB) for GAN-inversion semantic coding",
    build=build, train=train, default_config=normalize_config(EMBEDDED_CONFIG), fp16=True))
