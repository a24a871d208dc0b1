{#- The warehouse schemas have fixed names, set by the same WAREHOUSE_*_SCHEMA
    variables every step reads. Models and tests name a layer (staging,
    published, ops); dbt's default would prefix it with the target schema
    ("analytics_staging"). -#}
{% macro warehouse_schema(layer) -%}
    {%- set default_names = {'staging': 'staging', 'published': 'analytics', 'ops': 'ops'} -%}
    {%- if layer not in default_names -%}
        {{ exceptions.raise_compiler_error("unknown schema layer '" ~ layer ~ "' (expected staging, published or ops)") }}
    {%- endif -%}
    {{ return(env_var('WAREHOUSE_' ~ layer | upper ~ '_SCHEMA', default_names[layer])) }}
{%- endmacro %}


{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ warehouse_schema(custom_schema_name or 'published') }}
{%- endmacro %}


{#- The published table of a mart, for reads that must not become a ref():
    the batch checks run BEFORE the marts (a ref would run them after the
    merge) and the customer history reads dim_customers while building it (a
    ref would be a cycle). None when nothing is published yet, or when the run
    rebuilds everything (--full-refresh: the staged data is the whole history). -#}
{% macro published_relation(model_name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set model = model_node(model_name) -%}
    {{ return(adapter.get_relation(database=model.database, schema=model.schema, identifier=model.alias)) }}
{%- endmacro %}


{#- A model of this project, from the graph (call when `execute`). -#}
{% macro model_node(model_name) -%}
    {{ return(graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', model_name)
        | first) }}
{%- endmacro %}
