"""A fake Kubernetes API server for tests and the sandbox (loopback only).

The real `kubernetes` client talks to it over HTTP, so serialization, watch handling and
error translation are what a real cluster would exercise. See `server.FakeKubeApiServer`.
"""

from shipper.sandbox.kubeapi.controller import Timing
from shipper.sandbox.kubeapi.server import FakeKubeApiServer

__all__ = ["FakeKubeApiServer", "Timing"]
