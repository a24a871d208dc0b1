"""superstore-generator: realistic batches of new Superstore orders -> S3."""
