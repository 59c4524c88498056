"""Checkers for the chapters' exercises, one module per chapter (``ch02``, ``ch03``, ...).

Each checker takes the reader's function and returns a :class:`lessons_lib.notebook.checking.CheckResult`; the
reference solutions live beside them and are tested both ways in ``tests/``.
"""
