{#
  Which rows a data test reads (dbt's `where`, widened with Lumbung's scopes). A model says in
  its config `meta: {test_rows: ...}`:
  - latest_build: a table kept per snapshot date; its tests read the rows its latest build
    wrote (every row on a full refresh, the rebuilt snapshot dates otherwise). Earlier rows were
    tested by the builds that wrote them and have not changed since.
  - new_loads: a staging view over raw; its tests read the rows of counting loads that the
    table named in `test_rows_seen_in` does not list yet (that table is built after these tests
    pass, so it lists the loads tested before), all rows on a full refresh. Rows of voided
    loads never reach a mart and are not read.
#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [config.get('where', ''), tested_rows(relation)] | select | list -%}
    {%- if conditions -%}
        {%- do return("(select * from " ~ relation ~ " where (" ~ conditions | join(") and (")
                      ~ ")) dbt_subquery") -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro tested_rows(relation) -%}
    {%- if not execute -%}{%- do return('') -%}{%- endif -%}
    {%- set node = _node_of(relation) -%}
    {%- set meta = node.config.meta if node else {} -%}
    {%- if meta.get('test_rows') == 'latest_build' -%}
        _built_at = (select max(_built_at) from {{ relation }})
    {%- elif meta.get('test_rows') == 'new_loads' and not flags.FULL_REFRESH -%}
        {%- set seen_node = _node_named(meta['test_rows_seen_in']) -%}
        {%- set seen = adapter.get_relation(database=seen_node.database, schema=seen_node.schema,
                                            identifier=seen_node.alias) -%}
        {%- set loads_node = _node_named('stg_loads') -%}
        {%- set loads = adapter.get_relation(database=loads_node.database,
                                             schema=loads_node.schema,
                                             identifier=loads_node.alias) -%}
        {%- if seen is not none and loads is not none -%}
            {#- an array of the few new loads, so raw's index on _load_id finds their rows -#}
            _load_id = any(array(
                select load_id from {{ loads }}
                where is_counting and load_id not in (select _load_id from {{ seen }})))
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro _node_of(relation) -%}
    {%- for node in graph.nodes.values()
          if node.resource_type in ('model', 'snapshot')
          and node.alias == relation.identifier and node.schema == relation.schema -%}
        {%- do return(node) -%}
    {%- endfor -%}
    {%- do return(none) -%}
{%- endmacro %}

{% macro _node_named(name) -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == name -%}
        {%- do return(node) -%}
    {%- endfor -%}
    {%- do return(exceptions.raise_compiler_error("test_rows_seen_in names no model: " ~ name)) -%}
{%- endmacro %}
