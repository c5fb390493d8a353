"""The potential registry (``potentials/manifest.toml``) and checks against systems and binaries."""
