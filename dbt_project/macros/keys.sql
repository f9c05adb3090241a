{# dim_school's key (SPEC 6): the npsn, or the folded school name and the regency code. #}
{% macro school_key(npsn, school_name, regency_code) -%}
    case
        when {{ npsn }} is not null then 'npsn:' || {{ npsn }}
        when {{ school_name }} is not null then
            'name:' || {{ fold(school_name) }} || ':' || coalesce({{ regency_code }}, '')
    end
{%- endmacro %}

{# Folded for grouping: case, spacing and punctuation do not count (SPEC 6, competency). #}
{% macro fold(column) -%}
    regexp_replace(lower({{ column }}), '[^a-z0-9]', '', 'g')
{%- endmacro %}

{# The most frequent written form within a group, ties to the alphabetically first. #}
{% macro most_frequent(column) -%}
    mode() within group (order by {{ column }})
{%- endmacro %}

{#
  most_frequent over rows that come counted: per KEY, the COLUMN value whose WEIGHT adds up to
  the most, ties to the alphabetically first, nulls ignored (as mode() does). A subquery over
  RELATION (a CTE name) with the columns KEY and COLUMN.
#}
{% macro most_frequent_counted(relation, key, column, weight) -%}
    select {{ key }}, (array_agg({{ column }} order by weight desc, {{ column }}))[1] as {{ column }}
    from (
        select {{ key }}, {{ column }}, sum({{ weight }}) as weight
        from {{ relation }}
        where {{ column }} is not null
        group by {{ key }}, {{ column }}
    ) as counted
    group by {{ key }}
{%- endmacro %}
