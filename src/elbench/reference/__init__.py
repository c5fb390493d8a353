"""The classical charged-electrode reference model (a stand-in for DFT, not DFT)."""
