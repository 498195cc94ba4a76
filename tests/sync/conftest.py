"""The sync tests use the walkthrough fixtures of tests/conftest.py (``setting``,
``make_version``, ``push``)."""
