-- Customers, SCD type 2 on their location (see int_customer_order_versions
-- for the walk). One row per customer version; a version is described by its
-- first step: the anchor it continues, or the order that moved the customer.
-- Incremental runs touch only the batch's customers: their anchor version (to
-- close it) and their new versions, merged on customer_key.
{{ config(
    unique_key='customer_key',
    **physical_layout('customer_key', lookups=['customer_id'], dist='all', sort=['customer_id', 'version_number'])
) }}

with version_starts as (
    select *
    from (
        select
            steps.*,
            row_number() over (
                partition by customer_id, version_number
                order by is_anchor desc, step_date, order_id
            ) as position_in_version
        from {{ ref('int_customer_order_versions') }} as steps
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
    {{ surrogate_key(['customer_id', 'version_number']) }} as customer_key,
    customer_id,
    customer_name,
    segment,
    country,
    city,
    state,
    postal_code,
    region,
    version_number,
    step_date as valid_from,
    next_valid_from as valid_to,
    case when next_valid_from is null then true else false end as is_current,
    batch_id
from versions
