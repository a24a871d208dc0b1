{#- Physical design of a mart, per warehouse, for its config():
    PostgreSQL: a unique index on the merge key plus indexes for lookups, so a
    merge or a check touches the batch's rows, not the whole table. The unique
    index also keeps every key unique table-wide, whatever the mart tests of
    an incremental run read (only the batch's keys, see macros/test_scope.sql);
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
