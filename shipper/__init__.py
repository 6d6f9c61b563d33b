"""ship: release one application to Heroku and Kubernetes at once, safely."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shipper")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
