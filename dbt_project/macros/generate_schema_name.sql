{# A model's schema is exactly its configured schema (`marts`, not `staging_marts`). #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
