"""Imports every built-in method module so its @METHODS.register decorators run."""
import methods.schemes.uncoded  # noqa: F401
import methods.schemes.jpeg_ldpc  # noqa: F401
import methods.schemes.deepsc  # noqa: F401
