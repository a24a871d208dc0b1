-- The candidate order lines: the raw rows of this run's candidate loads
-- (rebuild: and of every published load), renamed and cast, one row per line.
--
-- The line key: the source has no line id once Row ID is dropped (it is a
-- per-file row counter), and the same (order_id, product_id) can occur twice
-- in one order, so a line is identified by its order and its position in the
-- order: order_line_number counts the order's lines in file order. That is
-- stable because an order arrives whole in one load (checked by
-- stg_orders_order_in_one_load and stg_orders_order_ids_not_yet_published).
with candidate_lines as (
    select *
    from {{ source('raw', 'order_lines') }}
    where _load_id in ({{ candidate_load_ids() }})
    {%- if var('rebuild') %}
       or _load_id in (select load_id from {{ source('raw', 'loads') }} where state = 'published')
    {%- endif %}
),

renamed as (
    select
        order_id,
        row_number() over (partition by order_id order by _load_id, _source_line) as order_line_number,
        order_date,
        ship_date,
        ship_mode,
        customer_id,
        customer_name,
        segment,
        country,
        region,
        state,
        city,
        postal_code as source_postal_code,
        {{ us_zip_code('postal_code', 'country') }} as postal_code,
        product_id,
        category,
        sub_category,
        product_name,
        sales,
        quantity,
        discount,
        profit,
        _load_id as load_id,
        _source_line as source_line
    from candidate_lines
)

select
    {{ surrogate_key(['order_id', 'order_line_number']) }} as order_line_key,
    {{ surrogate_key(['order_id']) }} as order_key,
    -- a Product ID can carry several names, see dim_products
    {{ surrogate_key(['product_id', 'product_name']) }} as product_key,
    {{ surrogate_key(['country', 'region', 'state', 'city', 'postal_code']) }} as location_key,
    renamed.*
from renamed
