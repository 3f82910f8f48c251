"""Imports every built-in method module so its @METHODS.register decorators run."""
import methods.uncoded  # noqa: F401
