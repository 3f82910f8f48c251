"""Imports every module that registers a trainable zoo component."""
