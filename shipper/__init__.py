"""ship: release one application to Heroku and Kubernetes at once, safely."""

# The one place the version lives (pyproject.toml reads it from here). A literal, not the
# installed package's metadata: reading that would cost every command, --version included.
__version__ = "0.1.0"
