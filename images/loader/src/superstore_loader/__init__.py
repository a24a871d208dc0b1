"""superstore-loader: source file -> S3, S3 -> validated warehouse staging."""
