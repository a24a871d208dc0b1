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


{#- Key of dim_dates: the date as the integer yyyymmdd, from its parts
    (to_char costs several times more per row; date_part is the same on
    PostgreSQL and Redshift). -#}
{% macro date_key(date_column) -%}
    cast(
        date_part('year', {{ date_column }}) * 10000
        + date_part('month', {{ date_column }}) * 100
        + date_part('day', {{ date_column }})
        as integer
    )
{%- endmacro %}
