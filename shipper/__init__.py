"""ship: release one application to Heroku and Kubernetes at once, safely."""

# The one place the version lives (pyproject.toml reads it from here): reading it from
# the installed package's metadata instead cost every command, --help included, 18 ms.
__version__ = "0.1.0"
