"""Benchmarks marked ``@pytest.mark.zoo_component("NAME")`` record NAME in their extra_info, so
``bench zoo --bench`` can file each timing on the card of the component it measures."""
import pytest


@pytest.fixture(autouse=True)
def _zoo_component(request):
    marker = request.node.get_closest_marker("zoo_component")
    if marker is not None and "benchmark" in request.fixturenames:
        request.getfixturevalue("benchmark").extra_info["component"] = marker.args[0]
    yield
