"""The files on disk that make a change survive a restart: the maps and server state."""

from __future__ import annotations

from pathlib import Path

from shipper.traffic import maps
from shipper.traffic.model import TrafficState


class MapFiles:
    """The map files and server-state file in `traffic.maps_dir`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def write(self, state: TrafficState, server_state: str) -> None:
        maps.write_map_files(self.folder, state)
        maps.write_atomically(self.folder / maps.SERVER_STATE, server_state)

    def read(self) -> TrafficState | None:
        """The state the map files hold (no drain: that is in the server state), or None
        when there are none yet."""
        if not any((self.folder / name).exists() for name in maps.MAPS):
            return None
        return maps.state_from_maps(maps.read_map_files(self.folder), None)

    def ensure(self, state: TrafficState, support: dict[Path, str]) -> list[Path]:
        """Create what a fresh HAProxy needs to start with the rendered configuration,
        leaving files that exist alone. Returns the files created."""
        made: list[Path] = []
        for name, text in maps.render_maps(state).items():
            path = self.folder / name
            if not path.exists():
                maps.write_atomically(path, text)
                made.append(path)
        for path, text in support.items():
            if not path.exists():
                maps.write_atomically(path, text)
                made.append(path)
        state_file = self.folder / maps.SERVER_STATE
        if not state_file.exists():
            maps.write_atomically(state_file, "1\n")
            made.append(state_file)
        return made
