-- Every line of an order carries the same header: dates, ship mode, customer
-- and the ship-to place. The marts take the header from the order's first
-- line; a load that contradicts itself is rejected instead.
select
    order_id,
    count(*) as lines
from {{ ref('stg_orders') }}
group by order_id
having count(distinct {{ surrogate_key([
    'order_date', 'ship_date', 'ship_mode', 'customer_id', 'customer_name', 'segment',
    'country', 'region', 'state', 'city', 'postal_code',
]) }}) > 1
