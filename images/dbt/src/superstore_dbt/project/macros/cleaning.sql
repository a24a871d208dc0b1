{#- Cleaning rule: a US ZIP code is 5 digits. The source lost the leading
    zero of New England and New Jersey codes (438 lines of the Kaggle file
    carry 4 digits, e.g. 2149 for 02149); it is restored here. The raw layer
    keeps the source value. -#}
{% macro us_zip_code(postal_code, country) -%}
    case
        when {{ country }} = 'United States' and length({{ postal_code }}) < 5
            then lpad({{ postal_code }}, 5, '0')
        else {{ postal_code }}
    end
{%- endmacro %}
