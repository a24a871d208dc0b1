{#- on-run-end: record the verdict on the staged batch in the load ledger.
    Every node of the build succeeded -> 'published'; otherwise 'rejected',
    with the failing nodes in `reason` (dbt build skipped every mart
    downstream of a failed batch check, so a rejected batch never reached
    them). Only `dbt build` may decide: `dbt run` or `dbt test` alone prove
    nothing. The hook runs outside dbt's transactions, hence the commit. -#}
{% macro record_batch_verdict(results) %}
    {%- if not execute or flags.WHICH != 'build' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- for result in results if result.status in ('error', 'fail') -%}
        {%- do failed.append(result.node.name) -%}
    {%- endfor %}
    update {{ source('ops', 'load_ledger') }}
    set status = '{{ "rejected" if failed else "published" }}',
        reason = {{ dbt.string_literal("dbt build failed: " ~ failed | join(", ")) if failed else "null" }},
        updated_at = {{ dbt.current_timestamp() }}
    from (
        select distinct _source_bucket, _source_key, _source_etag
        from {{ source('superstore', 'orders') }}
    ) as batch
    where load_ledger.bucket = batch._source_bucket
      and load_ledger."key" = batch._source_key
      and load_ledger.etag = batch._source_etag
      and load_ledger.status = 'staged';
    commit;
{% endmacro %}
