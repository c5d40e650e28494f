SELECT count(*) FROM {table} t WHERE t.is_active IS NOT FALSE {source_filter}
