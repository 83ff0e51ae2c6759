-- Monitoring views (order platform checklist): slow queries, index usage, table bloat.
CREATE VIEW slow_queries AS
SELECT pid, usename AS username, state, now() - query_start AS duration, query
FROM pg_stat_activity
WHERE state <> 'idle' AND query_start IS NOT NULL AND now() - query_start > interval '500 milliseconds'
ORDER BY duration DESC;

CREATE VIEW index_usage_stats AS
SELECT schemaname, relname AS table_name, indexrelname AS index_name, idx_scan AS index_scans,
       pg_relation_size(indexrelid) AS index_size_bytes
FROM pg_stat_user_indexes;

CREATE VIEW table_bloat_stats AS
SELECT schemaname, relname AS table_name, n_live_tup AS live_tuples, n_dead_tup AS dead_tuples,
       CASE WHEN n_live_tup + n_dead_tup = 0 THEN 0
            ELSE round(100.0 * n_dead_tup / (n_live_tup + n_dead_tup), 2) END AS dead_tuple_percent
FROM pg_stat_user_tables;
