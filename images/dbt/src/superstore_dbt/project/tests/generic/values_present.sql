{#- Fails on every row where one of the columns is null: the not_null test
    of several columns in one scan (a rebuild reads a million rows once per
    check, not once per column). The failing rows show which one. -#}
{% test values_present(model, columns) %}
select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
