{#
  The snapshot dates of fct_pmm_progress whose rows must be rebuilt: those whose set of
  contributing loads differs between the table and what counts now (a new load, a voided or a
  replaced one). Comparing (snapshot_date, load) pairs is exact and reads no row twice.
#}
{% macro pmm_changed_snapshot_dates(this_relation) -%}
    select coalesce(built.snapshot_date, counting.snapshot_date) as snapshot_date
    from (
        select distinct snapshot_date, _load_id from {{ this_relation }}
    ) as built
    full outer join (
        select distinct snapshot_date, _load_id
        from ({{ counting_rows('stg_pmm_progress') }}) as counting_rows
    ) as counting
        on counting.snapshot_date = built.snapshot_date
        and counting._load_id = built._load_id
    where built._load_id is null or counting._load_id is null
{%- endmacro %}
