"""Airflow side of the pipeline. No pipeline logic lives here: every step is
an image's entrypoint, run by one of three runners (see factory.py)."""
