-- Sales, one row per order line (grain and key: see stg_orders). Each line
-- points at the customer version its order belongs to (history stays true:
-- earlier lines keep the version they were sold under) and at the place the
-- order ships to. loaded_at is when the line was first published; rebuilds
-- keep it, so re-running a load changes nothing.
{{ config(
    unique_key='order_line_key',
    **physical_layout('order_line_key', lookups=['order_key', 'load_id'], dist='order_key', sort=['order_date_key'])
) }}
{%- set published_lines = published_relation('fct_sales') %}

with lines as (
    select * from {{ ref('stg_orders') }}
),

order_customer_versions as (
    select order_id, customer_id, version_number
    from {{ ref('int_customer_versions') }}
    where is_anchor = 0
)

{%- if published_lines %},

published_lines as (
    select order_line_key, loaded_at
    from {{ published_lines }}
    {%- if not var('rebuild') %}
    where order_line_key in (select order_line_key from lines)
    {%- endif %}
)
{%- endif %}

select
    lines.order_line_key,
    lines.order_key,
    {{ surrogate_key(['order_customer_versions.customer_id', 'order_customer_versions.version_number']) }} as customer_key,
    lines.product_key,
    lines.location_key,
    {{ date_key('lines.order_date') }} as order_date_key,
    {{ date_key('lines.ship_date') }} as ship_date_key,
    lines.sales,
    lines.quantity,
    lines.discount,
    lines.profit,
    lines.load_id,
    {%- set this_run = "cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)" %}
    {% if published_lines %}coalesce(published_lines.loaded_at, {{ this_run }}){% else %}{{ this_run }}{% endif %} as loaded_at
from lines
inner join order_customer_versions
    on order_customer_versions.order_id = lines.order_id
{%- if published_lines %}
left join published_lines
    on published_lines.order_line_key = lines.order_line_key
{%- endif %}
