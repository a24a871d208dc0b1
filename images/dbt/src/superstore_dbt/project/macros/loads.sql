{#- The run's candidate load ids (var load_ids) as SQL literals, 'null' when
    none. Each must look like a load id (superstore_common.objects.load_id):
    they are written into the SQL. -#}
{% macro candidate_load_ids() -%}
    {%- set literals = [] -%}
    {%- for load_id in var('load_ids') -%}
        {%- if not modules.re.fullmatch('load-[0-9a-f]{20}', load_id) -%}
            {{ exceptions.raise_compiler_error("not a load id: '" ~ load_id ~ "'") }}
        {%- endif -%}
        {%- do literals.append("'" ~ load_id ~ "'") -%}
    {%- endfor -%}
    {{ return(literals | join(', ') or 'null') }}
{%- endmacro %}
