"""The load test: many clients against a real uvicorn server on 127.0.0.1, then invariants.

Run it with ``make load`` (``LOAD_SECONDS=10`` for the short version CI runs), or
``python -m loadtest.load --help``.
"""
