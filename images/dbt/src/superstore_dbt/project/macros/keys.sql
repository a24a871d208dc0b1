{#- Surrogate key: md5 of the columns cast to text and '|'-joined, nulls
    replaced by a marker so that ('a', null) and (null, 'a') differ. The
    recipe of dbt_utils.generate_surrogate_key (no packages: dbt deps cannot
    reach the hub from the build), except for the cast: Redshift's TEXT is
    varchar(256) and a cast truncates silently, so long values would collide. -#}
{% macro surrogate_key(columns) -%}
    {%- set text_type = 'varchar(max)' if target.type == 'redshift' else dbt.type_string() -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ text_type ~ "), '_null_')") -%}
    {%- endfor -%}
    md5({{ parts | join(" || '|' || ") }})
{%- endmacro %}


{#- Key of dim_dates: the date as the integer yyyymmdd. -#}
{% macro date_key(date_column) -%}
    cast(to_char({{ date_column }}, 'YYYYMMDD') as integer)
{%- endmacro %}
