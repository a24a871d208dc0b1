"""Code shared by the pipeline images: settings, the step contract, S3 helpers."""
