-- One row per staged order line (the batch), named for the marts.
--
-- The line key: the source has no line id once Row ID is dropped (it is a
-- per-file row counter), and the same (order_id, product_id) can occur twice
-- in one order, so a line is identified by its order and its position in the
-- order: order_line_number counts the order's lines in source-file order.
-- That is stable because an order arrives whole in one batch (checked by
-- stg_orders_order_ids_not_yet_published), so re-staging the same file gives
-- every line the same key.
with source as (
    select * from {{ source('superstore', 'orders') }}
),

numbered as (
    select
        order_id,
        row_number() over (partition by order_id order by _source_key, _source_line) as order_line_number,
        order_date,
        ship_date,
        ship_mode,
        customer_id,
        customer_name,
        segment,
        country,
        city,
        state,
        postal_code,
        region,
        product_id,
        category,
        sub_category,
        product_name,
        sales,
        quantity,
        discount,
        profit,
        _batch_id as batch_id,
        _source_bucket as source_bucket,
        _source_key as source_key,
        _source_etag as source_etag,
        _source_line as source_line
    from source
)

select
    {{ surrogate_key(['order_id', 'order_line_number']) }} as order_line_key,
    {{ surrogate_key(['order_id']) }} as order_key,
    -- a Product ID can carry several names, see dim_products
    {{ surrogate_key(['product_id', 'product_name']) }} as product_key,
    numbered.*
from numbered
