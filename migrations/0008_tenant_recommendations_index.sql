-- The tasks addressing a province's recommendations, found through one index on both the
-- tenant and the array. With the array alone, PostgreSQL combined it with the tenant's
-- range of the (tenant, plan, lead unit) index, reading every task entry of the province
-- to keep a few: 18 ms for 1,000 tasks among 10 million, 1.7 ms with this index. It also
-- keeps provinces apart where their recommendation names coincide. btree_gin gives GIN
-- its equality on text; it is a trusted extension.
create extension if not exists btree_gin;
create index tasks_tenant_recommendations_idx on tasks using gin (tenant_id, recommendations);
drop index tasks_recommendations_idx;
