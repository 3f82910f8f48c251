"""Imports every built-in scheme and editor module so their registration decorators run."""
import methods.schemes.uncoded  # noqa: F401
import methods.schemes.jpeg_ldpc  # noqa: F401
import methods.schemes.ideal_separate  # noqa: F401
import methods.schemes.deepsc  # noqa: F401
import methods.schemes.compose  # noqa: F401
import methods.editing.identity  # noqa: F401
import methods.editing.talk2edit  # noqa: F401
import methods.schemes.editable_deepsc  # noqa: F401
