-- An order arrives whole in one load: an order id in two candidate loads is
-- a re-sent or split order whose lines would be counted twice. (min <> max:
-- the same verdict as a distinct count, without sorting every order's loads.)
select order_id, min(load_id) as first_load_id, max(load_id) as last_load_id
from {{ ref('stg_orders') }}
group by order_id
having min(load_id) <> max(load_id)
