{#- Surrogate key: md5 of the columns cast to text and '|'-joined, nulls
    replaced by a marker so that ('a', null) and (null, 'a') differ. The same
    recipe as dbt_utils.generate_surrogate_key (no packages: dbt deps cannot
    reach the hub from the build). -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
    {%- endfor -%}
    {{ dbt.hash(parts | join(" || '|' || ")) }}
{%- endmacro %}


{#- Key of dim_dates: the date as the integer yyyymmdd. -#}
{% macro date_key(date_column) -%}
    cast(to_char({{ date_column }}, 'YYYYMMDD') as integer)
{%- endmacro %}
