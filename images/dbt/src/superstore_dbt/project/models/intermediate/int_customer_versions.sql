-- The walk behind dim_customers: SCD type 2 on the customer's own attributes
-- (name, segment). One row per step of the walk: the customer's current
-- published version (the anchor; not on a rebuild), then the candidate
-- orders in (order_date, order_id) order. A new version starts whenever
-- name or segment differ from the previous step's. Where an order ships to
-- is the order's (dim_locations), not the customer's.
--
-- A rebuild walks the whole history from version 1; an incremental run
-- continues each candidate customer's walk from its anchor, so version
-- numbers follow the published history. An order dated before its anchor's
-- start (a late arrival) steps in on the anchor's start: published versions
-- are never reopened, and valid_from never goes back in time.
{#- The walk's order: the anchor first, then the steps by date. A rebuild has
    no anchors, and with the same order in both windows one sort serves them. #}
{%- set walk_order = 'step_date, order_id' if var('rebuild') else 'is_anchor desc, step_date, order_id' %}

with candidate_orders as (
    -- the order header: all lines of an order agree on it
    -- (stg_orders_order_header_consistent)
    select *
    from {{ ref('stg_orders') }}
    where order_line_number = 1
),

{% if not var('rebuild') %}
anchors as (
    select *
    from {{ source('published', 'dim_customers') }}
    where is_current
      and customer_id in (select customer_id from candidate_orders)
),
{% endif %}

steps as (
    {% if not var('rebuild') %}
    select
        1 as is_anchor,
        cast(null as {{ dbt.type_string() }}) as order_id,
        valid_from as step_date,
        version_number as anchor_version,
        customer_id, customer_name, segment, load_id
    from anchors
    union all
    {% endif %}
    select
        0 as is_anchor,
        candidate_orders.order_id,
        {%- if var('rebuild') %}
        candidate_orders.order_date as step_date,
        {%- else %}
        case
            when anchors.valid_from > candidate_orders.order_date then anchors.valid_from
            else candidate_orders.order_date
        end as step_date,
        {%- endif %}
        cast(null as integer) as anchor_version,
        candidate_orders.customer_id,
        candidate_orders.customer_name,
        candidate_orders.segment,
        candidate_orders.load_id
    from candidate_orders
    {%- if not var('rebuild') %}
    left join anchors
        on anchors.customer_id = candidate_orders.customer_id
    {%- endif %}
),

changes as (
    -- A step starts a version when it is the walk's first or when name or
    -- segment differ from the previous step's.
    select
        steps.*,
        case
            when lag(customer_id) over (partition by customer_id order by {{ walk_order }}) is null then 1
            {%- for attribute in ['customer_name', 'segment'] %}
            when {{ differ('lag(' ~ attribute ~ ') over (partition by customer_id order by ' ~ walk_order ~ ')', attribute) }} then 1
            {%- endfor %}
            else 0
        end as starts_version
    from steps
),

walk as (
    select
        is_anchor,
        order_id,
        step_date,
        customer_id,
        customer_name,
        segment,
        load_id,
        starts_version,
        -- the anchor's number (1 for a new customer) plus the changes since the anchor
        coalesce(max(anchor_version) over (partition by customer_id), 1)
            + sum(starts_version) over (
                partition by customer_id order by {{ walk_order }}
                rows between unbounded preceding and current row
            )
            - 1 as version_number
    from changes
)

-- customer_key: the key of dim_customers, and of the version each order's lines point at
select
    {{ surrogate_key(['customer_id', 'version_number']) }} as customer_key,
    walk.*
from walk
