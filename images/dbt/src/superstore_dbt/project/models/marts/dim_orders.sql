-- Orders (the order header): one row per order, read from its first line
-- (all lines agree on it: stg_orders_order_header_consistent).
{{ config(
    unique_key='order_key',
    **physical_layout('order_key', dist='order_key', sort=['order_date'])
) }}

select
    order_key,
    order_id,
    order_date,
    ship_date,
    ship_mode
from {{ ref('stg_orders') }}
where order_line_number = 1
