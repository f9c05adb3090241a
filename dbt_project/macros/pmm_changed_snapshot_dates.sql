{#
  The snapshot dates of THIS_RELATION (int_pmm_progress__current, fct_pmm_progress) whose rows
  must be rebuilt: those whose set of
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

{#
  The same dates as SQL literals ('2023-03-03'::date, ...; null::date when there are none),
  read when the model is compiled. A filter on literals is pushed below the window of
  int_pmm_progress__current, so an incremental build reads only the changed snapshots; a
  subquery is not, and made the incremental build rank every row ever loaded. The pre-hook
  and the model each read the list just before they run; dbt builds are not run concurrently,
  and a load committed between the two only makes its date wait for the next build (its
  (date, load) pair is then still missing from the table).
#}
{% macro pmm_changed_snapshot_date_literals(this_relation) -%}
    {%- set dates = [] -%}
    {%- if execute -%}
        {%- set dates = run_query(pmm_changed_snapshot_dates(this_relation)).columns[0].values() -%}
    {%- endif -%}
    {%- for day in dates | unique | sort -%}
        '{{ day }}'::date{{ ", " if not loop.last }}
    {%- else -%}
        null::date
    {%- endfor -%}
{%- endmacro %}
