{#- The warehouse schemas have fixed names, set by the same WAREHOUSE_*_SCHEMA
    variables every step reads. Models and tests name a layer; dbt's default
    would prefix it with the target schema ("analytics_audit"). The audit
    schema is the run's own (WAREHOUSE_AUDIT_SCHEMA, set by superstore-dbt from
    the run id). -#}
{% macro warehouse_schema(layer) -%}
    {%- set default_names = {'raw': 'raw', 'audit': 'staging_audit', 'published': 'analytics', 'ops': 'ops'} -%}
    {%- if layer not in default_names -%}
        {{ exceptions.raise_compiler_error("unknown schema layer '" ~ layer ~ "' (expected raw, audit, published or ops)") }}
    {%- endif -%}
    {{ return(env_var('WAREHOUSE_' ~ layer | upper ~ '_SCHEMA', default_names[layer])) }}
{%- endmacro %}


{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ warehouse_schema(custom_schema_name or 'audit') }}
{%- endmacro %}


{#- The published table of a mart as it was before this run, None when there
    is none yet. For reads that only matter when there is a history. -#}
{% macro published_relation(model_name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=target.database, schema=warehouse_schema('published'), identifier=model_name)) }}
{%- endmacro %}
