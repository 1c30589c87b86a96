"""sinkload: a PostGIS data warehouse for terrestrial carbon-sink estimates."""

__version__ = "0.1.0"
