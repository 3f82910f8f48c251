"""Every trainable zoo component: its network builder (``methods.nets``) and its trainer
(``methods.training``).

The networks never import their trainers: each component's ``train`` is a `LazyTrainer` that
imports ``methods.training.<module>`` only when `bench train` calls it.
"""
from __future__ import annotations

import importlib

from methods.nets import (attribute_judge, attribute_predictor, channel_adapter, deepsc, field_function,
                          identity_embedder, instruction_encoder, latent_encoder)
from methods.nets.stylegan2 import EMBEDDED_CONFIG, Generator, build_discriminator, normalize_config
from methods.zoo import Component, register_component


class LazyTrainer:
    """``train(ctx)`` of ``methods.training.<module>``, imported on the first call."""

    def __init__(self, module: str):
        self.module = f"methods.training.{module}"

    def __call__(self, ctx) -> None:
        return importlib.import_module(self.module).train(ctx)

    def __repr__(self) -> str:
        return f"LazyTrainer({self.module}.train)"


register_component(Component(
    name="stylegan2",
    summary="StyleGAN2 generator (64 px SynthFaces, 128-d W, skip ToRGB) for GAN-inversion semantic coding",
    build=Generator, train=LazyTrainer("stylegan2"), default_config=normalize_config(EMBEDDED_CONFIG), fp16=True,
    train_options=("recipe", "batch", "n_train", "world", "diffaugment", "lr", "proj_lr", "ema_kimg", "init_from",
                   "init_d_from", "time_budget_s", "report", "recon_weight", "init_e_from", "e_lr")))

def _discriminator_made_by_stylegan2(ctx) -> None:
    from bench.errors import UserError

    raise UserError("stylegan2-discriminator is trained together with its generator: run 'bench train stylegan2' "
                    "(it exports runs/train/stylegan2/stylegan2-discriminator.pt beside stylegan2.pt)")


register_component(Component(
    name="stylegan2-discriminator",
    summary="the StyleGAN2 discriminator trained with the shipped generator (the -D term of the field functions' "
            "loss, eq. 15); names that generator's SHA-256",
    build=build_discriminator, train=_discriminator_made_by_stylegan2,
    default_config={"resolution": 64, "channels": {"4": 128, "8": 128, "16": 64, "32": 32, "64": 16},
                    "generator_sha256": ""},
    fp16=True, made_by="stylegan2"))

register_component(Component(
    name=instruction_encoder.NAME,
    summary="instruction encoder (paper's LSTM SE_T): text -> E_T + attribute/direction/Δ/mode/target, with reject",
    build=instruction_encoder.build_checked, train=LazyTrainer("instruction_encoder"),
    default_config=dict(instruction_encoder.DEFAULT_HYPER), fp16=True))

register_component(Component(
    name=deepsc.NAME,
    summary="DeepSC image codec: SNR-conditioned deep JSCC autoencoder, 64 px, 512 complex symbols (CBR 1/12)",
    build=deepsc.build, train=LazyTrainer("deepsc"), default_config=dict(deepsc.DEFAULT_CONFIG), fp16=True))

register_component(Component(
    name=attribute_predictor.NAME,
    summary="attribute predictor P: degrees 0-5 of Bangs/Eyeglasses/Beard/Smiling/Young (64 px CNN)",
    build=attribute_predictor.build, train=LazyTrainer("attribute_predictor"),
    default_config=dict(attribute_predictor.DEFAULT_CONFIG), fp16=True))

register_component(Component(
    name=attribute_judge.NAME,
    summary="attribute judge J: an independent second attribute predictor, used only to score edits (never steers)",
    build=attribute_judge.build, train=LazyTrainer("attribute_judge"),
    default_config=dict(attribute_judge.DEFAULT_CONFIG), fp16=True))

register_component(Component(
    name=identity_embedder.NAME,
    summary="identity embedder (ArcFace/FaceNet role): attribute-invariant 128-d face embedding, same_person()",
    build=identity_embedder.build, train=LazyTrainer("identity_embedder"),
    default_config=dict(identity_embedder.DEFAULT_CONFIG), fp16=True,
    train_options=("pool", "align", "flip_average", "degrade", "margin", "verify", "widths", "shift_average",
                   "init_from", "lookalikes", "geometry_weight")))

register_component(Component(
    name=latent_encoder.NAME,
    summary="latent encoder: image -> StyleGAN2 W (inversion start init=encoder); tied to one generator's SHA-256",
    build=latent_encoder.build, train=LazyTrainer("latent_encoder"),
    default_config=dict(latent_encoder.DEFAULT_CONFIG), fp16=True, train_options=("generator",)))

register_component(Component(
    name=field_function.NAME,
    summary="field functions M (eq. 11): one 8-layer MLP per attribute moving W by one degree per step; "
            "tied to one generator's SHA-256",
    build=field_function.build, train=LazyTrainer("field_functions"),
    default_config=dict(field_function.DEFAULT_CONFIG), fp16=True,
    train_options=("generator", "calibrate", "snrs", "init_from", "id_views", "latents", "id_weight")))

register_component(Component(
    name=channel_adapter.NAME,
    summary="Editable-DeepSC's SNR-aware adapters A_CE / A_CD (eq. 16-18): one shape-preserving FC pair per SNR, "
            "fine-tuned on n_ft=10 finetune faces with everything else frozen; tied to one generator's SHA-256",
    build=channel_adapter.build, train=LazyTrainer("channel_adapters"),
    default_config=dict(channel_adapter.DEFAULT_CONFIG), fp16=False, train_options=("generator", "snrs", "n_ft", "norm")))

register_component(Component(
    name="jecc-field-functions",
    summary="Editable-DeepSC's JECC field functions: the field functions trained further with the channel in the "
            "loop at high SNRs (eq. 12-15 on the received image); tied to one generator's SHA-256",
    build=field_function.build, train=LazyTrainer("field_functions_jecc"),
    default_config=dict(field_function.DEFAULT_CONFIG), fp16=True,
    train_options=("generator", "calibrate", "snrs", "init_from", "id_views", "latents", "id_weight")))
