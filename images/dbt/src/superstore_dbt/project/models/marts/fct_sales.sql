-- Sales, one row per order line (grain and key: see stg_orders). Each line
-- points at the customer version its order belongs to (history stays true:
-- earlier lines keep the version they were sold under) and at the place the
-- order ships to. loaded_at is when the line's load was published (the
-- ledger's published_at); rebuilds keep it, so re-running changes nothing.
{{ config(
    unique_key='order_line_key',
    **physical_layout('order_line_key', lookups=['order_key', 'load_id'], dist='order_key', sort=['order_date_key'])
) }}

with lines as (
    select * from {{ ref('stg_orders') }}
),

order_customer_versions as (
    select order_id, customer_key
    from {{ ref('int_customer_versions') }}
    where is_anchor = 0
),

loads as (
    select load_id, published_at
    from {{ source('raw', 'loads') }}
    where state = 'published'
)

select
    lines.order_line_key,
    lines.order_key,
    order_customer_versions.customer_key,
    lines.product_key,
    lines.location_key,
    {{ date_key('lines.order_date') }} as order_date_key,
    {{ date_key('lines.ship_date') }} as ship_date_key,
    lines.sales,
    lines.quantity,
    lines.discount,
    lines.profit,
    lines.load_id,
    -- published lines keep the time their load was published; candidates get this run's
    coalesce(loads.published_at, cast('{{ var("published_at") }}' as timestamp)) as loaded_at
from lines
inner join order_customer_versions
    on order_customer_versions.order_id = lines.order_id
left join loads
    on loads.load_id = lines.load_id
