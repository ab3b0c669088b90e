-- The tasks addressing a set of recommendations (for a recommendation's derived status and
-- rates, and a plan's progress) are found through the GIN index on tasks.recommendations.
-- Under row-level security PostgreSQL cannot use that index: the array overlap operator is
-- not leakproof, so it may only run after the policy's filter, on every task of the
-- province. Measured on 10 million tasks (290,000 in the province): 315 ms through the
-- policy, 18 ms here. This function runs as the tables' owner, which the policies do not
-- bind, and applies the same tenant condition itself: the caller's tenant must be the
-- transaction's tenant, as the policy would require.
create function followup_addressing_tasks(p_tenant text, recommendation_names text[])
  returns table (recommendation text, state text, achieved jsonb)
  language sql stable security definer set search_path = public
as $$
  select r.name, t.state, coalesce(t.achieved -> r.name, '{}'::jsonb)
  from tasks t cross join lateral unnest(t.recommendations) as r (name)
  where t.tenant_id = p_tenant and p_tenant = followup_current_tenant()
    and t.recommendations && recommendation_names
    and r.name = any(recommendation_names)
$$;
revoke all on function followup_addressing_tasks(text, text[]) from public;
grant execute on function followup_addressing_tasks(text, text[]) to followup_app;
