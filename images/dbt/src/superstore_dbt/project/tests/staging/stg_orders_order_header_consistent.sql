-- Every line of an order carries the same header: dates, ship mode, customer
-- and the ship-to place. The marts take the header from the order's first
-- line; a load that contradicts itself is rejected instead. Each line is
-- compared with its order's first line, column by column (a hash join: no
-- key to compute and no distinct count to sort per order).
{%- set header = [
    'order_date', 'ship_date', 'ship_mode', 'customer_id', 'customer_name', 'segment',
    'country', 'region', 'state', 'city', 'postal_code',
] %}

select
    line.order_id,
    count(*) as lines_differing_from_the_first
from {{ ref('stg_orders') }} as line
inner join {{ ref('stg_orders') }} as first_line
    on first_line.order_id = line.order_id
    and first_line.order_line_number = 1
where line.order_line_number > 1
  and (
    {%- for column in header %}
    {{ 'or ' if not loop.first }}{{ differ('line.' ~ column, 'first_line.' ~ column) }}
    {%- endfor %}
  )
group by line.order_id
