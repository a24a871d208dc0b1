{#- Physical design of a mart, per warehouse, for its config(). The publish
    step moves or copies the audit table into the published schema, so this
    is the published table's design too.
    PostgreSQL: a unique index on the key (the publish replaces rows by it,
    and it refuses a duplicate outright) plus indexes for lookups;
    Redshift (no indexes): distribution and sort keys. -#}
{% macro physical_layout(unique_key, lookups=[], dist='all', sort=none) -%}
    {%- if target.type == 'redshift' -%}
        {{ return({'dist': dist, 'sort': sort or [unique_key]}) }}
    {%- endif -%}
    {%- set indexes = [{'columns': [unique_key], 'unique': true}] -%}
    {%- for column in lookups -%}
        {%- do indexes.append({'columns': [column]}) -%}
    {%- endfor -%}
    {{ return({'indexes': indexes}) }}
{%- endmacro %}
