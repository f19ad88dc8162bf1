"""HTTP transports of the fake cloud: thin handlers over the backend (``fake/cloud.py``)."""
