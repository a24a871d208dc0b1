"""superstore-soda: Soda checks on the published star schema."""
