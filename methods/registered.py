"""Imports every built-in method module so its @METHODS.register decorators run."""
import methods.uncoded  # noqa: F401
import methods.jpeg_ldpc  # noqa: F401
import methods.deepsc_method  # noqa: F401
