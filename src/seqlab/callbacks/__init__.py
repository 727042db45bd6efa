"""Callback room: Lightning hooks for run bookkeeping and training health."""
