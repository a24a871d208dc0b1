-- An order arrives whole in one load: an order id in two candidate loads is
-- a re-sent or split order whose lines would be counted twice.
select order_id, count(distinct load_id) as loads
from {{ ref('stg_orders') }}
group by order_id
having count(distinct load_id) > 1
