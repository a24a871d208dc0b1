-- Which version of its customer each staged order belongs to: the walk behind
-- the customers' history (SCD type 2 on the location, which arrives with
-- every order). One row per step of the walk: the customer's anchor version
-- (incremental runs), then the staged orders in (order_date, order_id) order.
-- A new version starts whenever the location differs from the previous step's.
--
-- Incremental runs start each batch customer's walk from its latest version
-- published by an EARLIER batch (the anchor), so version numbers continue
-- from the published history, and a retried batch recomputes exactly the
-- versions it made the first time (idempotent, even after a partial run).
-- A full refresh walks the whole staged history from version 1.
{%- set published_customers = published_relation('dim_customers') %}
{%- set location = ['country', 'city', 'state', 'postal_code', 'region'] %}

with staged_orders as (
    -- the order header: all lines of an order agree on it
    -- (stg_orders_order_header_consistent)
    select *
    from {{ ref('stg_orders') }}
    where order_line_number = 1
),

{% if published_customers %}
anchors as (
    select *
    from (
        select
            published.*,
            row_number() over (partition by customer_id order by version_number desc) as recency
        from {{ published_customers }} as published
        where customer_id in (select customer_id from staged_orders)
          and batch_id not in (select batch_id from staged_orders)
    ) as earlier_versions
    where recency = 1
),
{% endif %}

steps as (
    {% if published_customers %}
    select
        1 as is_anchor,
        cast(null as {{ dbt.type_string() }}) as order_id,
        valid_from as step_date,
        version_number as anchor_version,
        customer_id, customer_name, segment, {{ location | join(', ') }}, batch_id
    from anchors
    union all
    {% endif %}
    select
        0 as is_anchor,
        order_id,
        order_date as step_date,
        cast(null as integer) as anchor_version,
        customer_id, customer_name, segment, {{ location | join(', ') }}, batch_id
    from staged_orders
),

located_steps as (
    select
        steps.*,
        {{ surrogate_key(location) }} as location_key
    from steps
),

location_changes as (
    select
        located_steps.*,
        case
            when lag(location_key) over (
                partition by customer_id order by is_anchor desc, step_date, order_id
            ) = location_key then 0
            else 1
        end as starts_version
    from located_steps
)

select
    is_anchor,
    order_id,
    step_date,
    customer_id,
    customer_name,
    segment,
    {{ location | join(', ') }},
    batch_id,
    -- the anchor's number (1 for a new customer) plus the moves since the anchor
    coalesce(max(anchor_version) over (partition by customer_id), 1)
        + sum(starts_version) over (
            partition by customer_id order by is_anchor desc, step_date, order_id
            rows between unbounded preceding and current row
        )
        - 1 as version_number
from location_changes
