"""A plugin that fails at import with something other than ImportError (for tests/test_plugins.py)."""
raise RuntimeError("this plugin is broken\non purpose")
