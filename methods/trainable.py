"""Imports every module that registers a trainable zoo component."""
import methods.stylegan2.component  # noqa: F401
