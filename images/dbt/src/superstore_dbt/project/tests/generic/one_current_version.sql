{#- SCD type 2: every entity has exactly one current version. -#}
{% test one_current_version(model, entity) %}
select {{ entity }}, sum(case when is_current then 1 else 0 end) as current_versions
from {{ model }}
group by {{ entity }}
having sum(case when is_current then 1 else 0 end) <> 1
{% endtest %}
