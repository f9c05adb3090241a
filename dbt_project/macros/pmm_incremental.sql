{#
  PMM tables kept per snapshot date (int_pmm_progress__current, fct_pmm_progress and the
  per-date aggregates their readers use). Each is rebuilt only for the snapshot dates whose set
  of contributing loads differs between the table and what counts now (a new load, a voided or
  a replaced one): comparing (snapshot_date, load) pairs is exact, and each table compares its
  own pairs, so a build that failed half way is mended by the next one.
#}
{% macro pmm_changed_snapshot_dates(this_relation) -%}
    select coalesce(built.snapshot_date, counting.snapshot_date) as snapshot_date
    from ({{ distinct_snapshot_loads(this_relation) }}) as built
    full outer join {{ ref('int_pmm_snapshot_loads') }} as counting
        on counting.snapshot_date = built.snapshot_date
        and counting._load_id = built._load_id
    where built._load_id is null or counting._load_id is null
{%- endmacro %}

{#
  The distinct (snapshot_date, _load_id) pairs of RELATION, read as a loose index scan of its
  (snapshot_date, _load_id) index: one probe per pair instead of a scan of every row.
#}
{% macro distinct_snapshot_loads(relation) -%}
    with recursive pairs as (
        (select snapshot_date, _load_id from {{ relation }}
         order by snapshot_date, _load_id limit 1)
        union all
        select following.snapshot_date, following._load_id
        from pairs
        cross join lateral (
            select snapshot_date, _load_id from {{ relation }} as later
            where (later.snapshot_date, later._load_id) > (pairs.snapshot_date, pairs._load_id)
            order by snapshot_date, _load_id limit 1
        ) as following
    )
    select snapshot_date, _load_id from pairs
{%- endmacro %}

{#
  The pre-hook of a table kept per snapshot date: drop the dates about to be rebuilt, named as
  literals so the delete finds their rows through the index (with a subquery PostgreSQL read
  the whole table even to delete nothing).
#}
{% macro pmm_delete_changed_dates() -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where snapshot_date in ({{ date_literals(pmm_changed_snapshot_dates(this)) }})
    {%- endif -%}
{%- endmacro %}

{#
  The model's filter: on a full build nothing, else the changed dates as SQL literals, read
  when the model is compiled (before its pre-hook deletes them). Literals are pushed down to
  the rows of those dates (an index scan); a subquery made PostgreSQL read every row. With
  LOAD_COLUMN (a model reading raw, which has no index on the date but one on the load), also
  the loads that have rows on those dates, as an array, so raw's index finds their rows.
#}
{% macro pmm_changed_dates_only(column='snapshot_date', load_column=none) -%}
    {%- if is_incremental() -%}
    {%- set dates = date_literals(pmm_changed_snapshot_dates(this)) -%}
    where {{ column }} in ({{ dates }})
    {%- if load_column %}
      and {{ load_column }} = any(array(
          select _load_id from {{ ref('int_pmm_snapshot_loads') }}
          where snapshot_date in ({{ dates }})))
    {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{# The dates QUERY returns in its first column, as SQL literals (null::date for none). #}
{% macro date_literals(query) -%}
    {%- set dates = [] -%}
    {%- if execute -%}
        {%- set dates = run_query(query).columns[0].values() -%}
    {%- endif -%}
    {%- for day in dates | reject('none') | unique | sort -%}
        '{{ day }}'::date{{ ", " if not loop.last }}
    {%- else -%}
        null::date
    {%- endfor -%}
{%- endmacro %}

{# When the table's row was written: tests and the marts' PII scan read the latest build's. #}
{% macro built_at() -%}
    '{{ run_started_at }}'::timestamptz
{%- endmacro %}

{# A PMM topic counts as completed: every module done and the Aksi Nyata validated (SPEC 6). #}
{% macro pmm_is_completed(modules_completed='modules_completed', modules_total='modules_total',
                          status='aksi_nyata_status') -%}
    ({{ modules_completed }} = {{ modules_total }} and {{ status }} = 'tervalidasi')
{%- endmacro %}

{#
  The config of a table kept per snapshot date. The post-hook refreshes its statistics, so the
  scans of the latest build's rows (tests, PII scan) plan with the _built_at index.
#}
{% macro pmm_snapshot_table_config() -%}
    {{ config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ pmm_delete_changed_dates() }}",
        post_hook="analyze {{ this }}",
        indexes=[{'columns': ['snapshot_date', '_load_id']}, {'columns': ['_built_at']}],
        meta={'test_rows': 'latest_build'},
    ) }}
{%- endmacro %}
