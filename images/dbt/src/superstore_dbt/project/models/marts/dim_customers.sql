-- Customers, SCD type 2 on their own attributes (name, segment); see
-- int_customer_versions for the walk. One row per customer version,
-- described by its first step: the anchor it continues, or the order that
-- changed the customer. Incremental runs hold the candidate customers'
-- versions only: the anchor (closed when a new version follows) and the new
-- ones, published by key.
--
-- Why not a dbt snapshot: a snapshot writes its table in place, outside the
-- publish transaction (a rejected load would leave its versions behind), and
-- records what it saw when it ran, so it cannot be rebuilt from the raw
-- history after a model fix. The raw layer keeps every order, so the history
-- is derived from it, the same on every rebuild.
{{ config(
    unique_key='customer_key',
    **physical_layout('customer_key', lookups=['customer_id'], dist='all', sort=['customer_id', 'version_number'])
) }}

with version_starts as (
    select *
    from (
        select
            *,
            row_number() over (
                partition by customer_id, version_number
                order by is_anchor desc, step_date, order_id
            ) as position_in_version
        from {{ ref('int_customer_versions') }}
    ) as positioned_steps
    where position_in_version = 1
),

versions as (
    select
        version_starts.*,
        lead(step_date) over (partition by customer_id order by version_number) as next_valid_from
    from version_starts
)

select
    customer_key,
    customer_id,
    customer_name,
    segment,
    version_number,
    step_date as valid_from,
    next_valid_from as valid_to,
    case when next_valid_from is null then true else false end as is_current,
    load_id
from versions
