{# The lineage every raw row carries (SPEC 4), in staging's order. #}
{% macro lineage_columns() -%}
        _load_id,
        _source_file,
        _sheet,
        _row_number,
        _file_sha256,
        _loaded_at
{%- endmacro %}

{#
  The rows of MODEL (a staging model over raw) whose load counts: loaded, neither voided nor
  replaced (SPEC 4). The one place that rule is applied; stg_loads.is_counting defines it.
#}
{% macro counting_rows(model) -%}
    select rows.*
    from {{ ref(model) }} as rows
    inner join {{ ref('stg_loads') }} as loads
        on loads.load_id = rows._load_id and loads.is_counting
{%- endmacro %}
