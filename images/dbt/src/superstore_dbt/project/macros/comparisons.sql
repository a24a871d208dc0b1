{#- True when two values differ, a null against a value included: a
    null-safe `<>` written with plain `=` and `is null`, the same SQL for
    PostgreSQL and Redshift. -#}
{% macro differ(left, right) -%}
    not coalesce({{ left }} = {{ right }}, {{ left }} is null and {{ right }} is null)
{%- endmacro %}
