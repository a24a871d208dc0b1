-- The baseline of initial_build_vs_sql: the star schema built from the raw
-- history by hand, in one plain SQL script for PostgreSQL: the same tables,
-- rows and indexes the dbt project publishes (the bench checks that), with
-- none of its audit or its publish transaction. psql -v schema=... -f this.
\set ON_ERROR_STOP on
drop schema if exists :schema cascade;
create schema :schema;
set search_path = :schema;

create table stg_orders as
with candidate_lines as (
    select * from raw.order_lines
    where _load_id in (select load_id from raw.loads where state = 'published')
),
renamed as (
    select
        order_id,
        row_number() over (partition by order_id order by _load_id, _source_line) as order_line_number,
        order_date, ship_date, ship_mode, customer_id, customer_name, segment, country, region, state, city,
        case when country = 'United States' and length(postal_code) < 5 then lpad(postal_code, 5, '0')
             else postal_code end as postal_code,
        product_id, category, sub_category, product_name, sales, quantity, discount, profit,
        _load_id as load_id
    from candidate_lines
)
select
    md5(coalesce(cast(order_id as text), '_null_') || '|' || coalesce(cast(order_line_number as text), '_null_')) as order_line_key,
    md5(coalesce(cast(order_id as text), '_null_')) as order_key,
    md5(coalesce(cast(product_id as text), '_null_') || '|' || coalesce(cast(product_name as text), '_null_')) as product_key,
    md5(coalesce(cast(country as text), '_null_') || '|' || coalesce(cast(region as text), '_null_') || '|'
        || coalesce(cast(state as text), '_null_') || '|' || coalesce(cast(city as text), '_null_') || '|'
        || coalesce(cast(postal_code as text), '_null_')) as location_key,
    renamed.*
from renamed;

create table customer_versions as
with orders as (select * from stg_orders where order_line_number = 1),
changes as (
    select order_id, order_date, customer_id, customer_name, segment, load_id,
           case when lag(md5(coalesce(customer_name, '_null_') || '|' || coalesce(segment, '_null_')))
                         over (partition by customer_id order by order_date, order_id)
                     = md5(coalesce(customer_name, '_null_') || '|' || coalesce(segment, '_null_')) then 0 else 1 end
               as starts_version
    from orders
)
select *, sum(starts_version) over (partition by customer_id order by order_date, order_id
                                    rows between unbounded preceding and current row) as version_number
from changes;

create table dim_customers as
with starts as (
    select distinct on (customer_id, version_number) *
    from customer_versions
    order by customer_id, version_number, order_date, order_id
)
select
    md5(coalesce(cast(customer_id as text), '_null_') || '|' || coalesce(cast(version_number as text), '_null_')) as customer_key,
    customer_id, customer_name, segment, version_number,
    order_date as valid_from,
    lead(order_date) over (partition by customer_id order by version_number) as valid_to,
    lead(order_date) over (partition by customer_id order by version_number) is null as is_current,
    load_id
from starts;

create table dim_locations as
select distinct location_key, country, region, state, city, postal_code from stg_orders;

create table dim_orders as
select order_key, order_id, order_date, ship_date, ship_mode from stg_orders where order_line_number = 1;

create table dim_products as
select distinct on (product_key) product_key, product_id, product_name, category, sub_category
from stg_orders
order by product_key, order_date desc, order_id desc, order_line_number desc;

create table dim_dates as
select cast(to_char(d, 'YYYYMMDD') as integer) as date_key, cast(d as date) as date,
       cast(extract(year from d) as integer) as year, cast(extract(quarter from d) as integer) as quarter,
       cast(extract(month from d) as integer) as month, cast(extract(day from d) as integer) as day,
       cast(extract(dow from d) as integer) as day_of_week, extract(dow from d) in (0, 6) as is_weekend
from generate_series(date '2010-01-01', date '2035-12-31', interval '1 day') as d;

create table fct_sales as
select
    lines.order_line_key, lines.order_key,
    md5(coalesce(cast(versions.customer_id as text), '_null_') || '|' || coalesce(cast(versions.version_number as text), '_null_')) as customer_key,
    lines.product_key, lines.location_key,
    cast(to_char(lines.order_date, 'YYYYMMDD') as integer) as order_date_key,
    cast(to_char(lines.ship_date, 'YYYYMMDD') as integer) as ship_date_key,
    lines.sales, lines.quantity, lines.discount, lines.profit, lines.load_id,
    loads.published_at as loaded_at
from stg_orders as lines
join customer_versions as versions on versions.order_id = lines.order_id
left join raw.loads as loads on loads.load_id = lines.load_id;

create unique index on dim_customers (customer_key);
create index on dim_customers (customer_id);
create unique index on dim_locations (location_key);
create unique index on dim_orders (order_key);
create unique index on dim_products (product_key);
create unique index on dim_dates (date_key);
create unique index on fct_sales (order_line_key);
create index on fct_sales (order_key);
create index on fct_sales (load_id);
drop table stg_orders, customer_versions;
