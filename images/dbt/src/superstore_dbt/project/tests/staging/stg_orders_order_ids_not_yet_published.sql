-- An order arrives whole in one load: an order id that another load has
-- already published is a re-sent or duplicated order whose lines would be
-- counted twice. A rebuild re-reads the published loads themselves, where
-- stg_orders_order_in_one_load sees the same.
{%- set published_sales = none if var('rebuild') else published_relation('fct_sales') %}
{% if published_sales %}
with published_orders as (
    -- Only the candidates' orders, looked up by key (an index on PostgreSQL).
    select distinct order_key, load_id
    from {{ published_sales }}
    where order_key in (select order_key from {{ ref('stg_orders') }} where load_id in ({{ candidate_load_ids() }}))
)

select distinct
    staged.order_id,
    staged.load_id,
    published.load_id as published_load_id
from {{ ref('stg_orders') }} as staged
inner join published_orders as published
    on published.order_key = staged.order_key
where published.load_id <> staged.load_id
  and staged.load_id in ({{ candidate_load_ids() }})
{% else %}
select order_id, load_id
from {{ ref('stg_orders') }}
where 1 = 0
{% endif %}
