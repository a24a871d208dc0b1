{#- What a mart test reads. In an incremental run, only the rows the run
    merged, so that a test costs what the batch costs however big the tables
    grow. The mart tests' `where` (models/marts/_marts.yml) names them with
    placeholders, replaced here:
    __staged_batch__      the staged batch (stg_orders);
    __staged_batch_ids__  its batch ids, as literals ('batch-1'): PostgreSQL
                          then reads the rows through the batch_id index.
    A full refresh (--mode initial) drops such a `where` and tests whole
    tables. Overriding get_where_subquery is dbt's documented way to give
    `where` logic that a .yml file cannot hold. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__staged_batch' in where -%}
        {%- if not execute or flags.FULL_REFRESH -%}
            {{ return(relation) }}
        {%- endif -%}
        {%- set staged_batch = model_node('stg_orders').relation_name -%}
        {%- if '__staged_batch_ids__' in where -%}
            {%- set where = where | replace('__staged_batch_ids__', batch_id_literals(staged_batch)) -%}
        {%- endif -%}
        {%- set where = where | replace('__staged_batch__', staged_batch) -%}
    {%- endif -%}
    {%- if where -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#- The batch ids of the staged rows as SQL literals, 'null' when none. -#}
{% macro batch_id_literals(staged_batch) -%}
    {%- set literals = [] -%}
    {%- for batch_id in run_query('select distinct batch_id from ' ~ staged_batch).columns[0].values() -%}
        {%- do literals.append("'" ~ batch_id | replace("'", "''") ~ "'") -%}
    {%- endfor -%}
    {{ return(literals | join(', ') or 'null') }}
{%- endmacro %}
