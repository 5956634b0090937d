"""Tile engine: EPSG:3857 layers to MVT tiles as z/x/y.pbf files and one PMTiles archive."""

from .pyramid import PreviousTiles, TileLayer, TileStats, build_tiles

__all__ = ["PreviousTiles", "TileLayer", "TileStats", "build_tiles"]
