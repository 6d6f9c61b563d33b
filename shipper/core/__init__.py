"""The domain and the release state machine. No I/O here: the core reaches the world
only through the Protocols in `shipper.core.ports`."""
