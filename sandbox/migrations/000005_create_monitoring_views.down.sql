DROP VIEW IF EXISTS table_bloat_stats;
DROP VIEW IF EXISTS index_usage_stats;
DROP VIEW IF EXISTS slow_queries;
