"""The attention audit: aggregation with fold statistics, sanity checks and figure-6 overlays."""
