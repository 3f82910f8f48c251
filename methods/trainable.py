"""Imports every module that registers a trainable zoo component."""
import methods.stylegan2.component  # noqa: F401
import methods.instruction_encoder  # noqa: F401
import methods.deepsc  # noqa: F401
import methods.attribute_predictor  # noqa: F401
import methods.identity_embedder  # noqa: F401
