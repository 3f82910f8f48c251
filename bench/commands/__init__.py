"""Implementations of `bench` subcommands that are more than a few lines (`bench/cli.py` registers them).

* ``parse`` - ``bench parse TEXT...``: what the shipped instruction encoder understands;
* ``data`` - ``bench data export SPEC``: a dataset's images, ground-truth edits and labels as files.
"""
