-- Calendar, 2010-01-01 to 2035-12-31. The day numbers 0..9999 come from a
-- cross join of four digit tables (portable: Redshift runs generate_series
-- on the leader node only). A rebuild holds the whole calendar; an
-- incremental run the days its candidate lines point at (published by key:
-- unchanged), so that every relationship is checked on the audit tables and
-- a day outside the calendar fails it.
{{ config(
    unique_key='date_key',
    **physical_layout('date_key', dist='all')
) }}

with digits as (
    select 0 as digit union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

day_numbers as (
    select thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + ones.digit as day_number
    from digits as thousands
    cross join digits as hundreds
    cross join digits as tens
    cross join digits as ones
),

days as (
    select cast({{ dbt.dateadd('day', 'day_number', "cast('2010-01-01' as date)") }} as date) as date_day
    from day_numbers
)

select
    {{ date_key('date_day') }} as date_key,
    date_day as date,
    cast(extract(year from date_day) as integer) as year,
    cast(extract(quarter from date_day) as integer) as quarter,
    cast(extract(month from date_day) as integer) as month,
    cast(extract(day from date_day) as integer) as day,
    -- 0 = Sunday ... 6 = Saturday (the same in PostgreSQL and Redshift)
    cast(extract(dow from date_day) as integer) as day_of_week,
    case when extract(dow from date_day) in (0, 6) then true else false end as is_weekend
from days
where date_day <= cast('2035-12-31' as date)
{%- if not var('rebuild') %}
  and (
    date_day in (select order_date from {{ ref('stg_orders') }})
    or date_day in (select ship_date from {{ ref('stg_orders') }})
  )
{%- endif %}
