-- Ship-to places: one row per (country, region, state, city, postal code).
-- Where an order ships is the order's, not the customer's (780 of the 793
-- customers of the Kaggle file ship to several places). Postal codes are
-- cleaned in stg_orders (5-character US ZIP codes).
{{ config(
    unique_key='location_key',
    **physical_layout('location_key', dist='all')
) }}

select distinct
    location_key,
    country,
    region,
    state,
    city,
    postal_code
from {{ ref('stg_orders') }}
