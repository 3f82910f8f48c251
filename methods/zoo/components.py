"""Imports every module that registers a trainable zoo component."""
import methods.nets.stylegan2.component  # noqa: F401
import methods.nets.instruction_encoder  # noqa: F401
import methods.nets.deepsc  # noqa: F401
import methods.nets.attribute_predictor  # noqa: F401
import methods.nets.identity_embedder  # noqa: F401
