-- Every line of an order carries the same header: dates, ship mode, customer
-- and the customer's location. The marts take the header from the order's
-- first line; a batch that contradicts itself is rejected instead.
select
    order_id,
    count(*) as lines
from {{ ref('stg_orders') }}
group by order_id
having count(distinct {{ surrogate_key([
    'order_date', 'ship_date', 'ship_mode', 'customer_id', 'customer_name', 'segment',
    'country', 'city', 'state', 'postal_code', 'region',
]) }}) > 1
