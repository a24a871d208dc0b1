{#- Fails on every row where the SQL expression is not true (null counts as a
    pass: not_null tests own missing values). -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not ({{ expression }})
{% endtest %}
