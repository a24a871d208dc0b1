"""superstore-dbt: the dbt project that publishes the star schema, and its entrypoint."""
