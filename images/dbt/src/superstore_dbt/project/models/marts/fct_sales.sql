-- Sales, one row per order line (grain and key: see stg_orders). Each line
-- points at the customer version its order belongs to, so history stays
-- true: lines of earlier orders keep pointing at the version they were sold
-- under. loaded_at is when the line was first published; replays and
-- rebuilds keep it, so re-running a load changes nothing. Lookups: order_key
-- for the check that an order is not published twice; batch_id for the tests
-- of an incremental run and the Soda scan of one batch (scan --batch-id).
{{ config(
    unique_key='order_line_key',
    **physical_layout('order_line_key', lookups=['order_key', 'batch_id'], dist='order_key', sort=['order_date_key'])
) }}
-- Built after the dimensions, so that a failed dimension skips the facts
-- instead of publishing lines whose keys point nowhere.
-- depends_on: {{ ref('dim_customers') }} {{ ref('dim_products') }} {{ ref('dim_orders') }} {{ ref('dim_dates') }}
{%- set published_lines = load_relation(this) %}

with lines as (
    select * from {{ ref('stg_orders') }}
),

order_customer_versions as (
    select order_id, customer_id, version_number
    from {{ ref('int_customer_order_versions') }}
    where is_anchor = 0
)

{%- if published_lines %},

published_lines as (
    select order_line_key, loaded_at
    from {{ published_lines }}
    where order_line_key in (select order_line_key from lines)
)
{%- endif %}

select
    lines.order_line_key,
    lines.order_key,
    {{ surrogate_key(['order_customer_versions.customer_id', 'order_customer_versions.version_number']) }} as customer_key,
    lines.product_key,
    {{ date_key('lines.order_date') }} as order_date_key,
    {{ date_key('lines.ship_date') }} as ship_date_key,
    lines.sales,
    lines.quantity,
    lines.discount,
    lines.profit,
    lines.batch_id,
    {%- set this_run = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)" %}
    {% if published_lines %}coalesce(published_lines.loaded_at, {{ this_run }}){% else %}{{ this_run }}{% endif %} as loaded_at
from lines
inner join order_customer_versions
    on order_customer_versions.order_id = lines.order_id
{%- if published_lines %}
left join published_lines
    on published_lines.order_line_key = lines.order_line_key
{%- endif %}
