-- Orders (the order header): one row per order. All lines of an order agree on
-- the header (stg_orders_order_header_consistent); it is read from line 1.
{{ config(
    unique_key='order_key',
    **physical_layout('order_key', dist='order_key', sort=['order_date'])
) }}

select
    order_key,
    order_id,
    order_date,
    ship_date,
    ship_mode,
    customer_id
from {{ ref('stg_orders') }}
where order_line_number = 1
