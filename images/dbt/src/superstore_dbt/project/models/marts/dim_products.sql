-- Products. Grain: one row per distinct (product_id, product_name), because
-- the source reuses a Product ID for several names (32 ids in the Kaggle
-- file), so product_id alone is no key. product_key (from stg_orders) =
-- surrogate_key(product_id, product_name) is unique by construction.
-- Category and sub-category come from the product's latest candidate line.
{{ config(
    unique_key='product_key',
    **physical_layout('product_key', dist='all')
) }}

with ranked_lines as (
    select
        product_key,
        product_id,
        product_name,
        category,
        sub_category,
        row_number() over (
            partition by product_key
            order by order_date desc, order_id desc, order_line_number desc
        ) as recency
    from {{ ref('stg_orders') }}
)

select
    product_key,
    product_id,
    product_name,
    category,
    sub_category
from ranked_lines
where recency = 1
